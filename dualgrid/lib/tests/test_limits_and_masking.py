from django.test import Client

from dualgrid.lib.privacy import is_phone, mask_phone, normalize_phone


def test_mobile_numbers_are_masked_in_the_middle() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
    assert "5678" in mask_phone("023-45675678") and "4567" not in mask_phone("023-45675678")


def test_phone_validation_accepts_mobiles_and_landlines_only() -> None:
    assert is_phone(normalize_phone("+86 138 1234 5678"))
    assert is_phone("023-44556677")
    assert not is_phone("12345")
    assert not is_phone("1381234567a")


def test_an_oversized_body_is_refused_before_it_is_read(db, settings) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "MAX_REQUEST_BYTES": 1000}
    resp = Client().post("/api/v1/cases", data=b"x" * 2000, content_type="application/json")
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    page = Client().post("/report/", data=b"x" * 2000, content_type="application/octet-stream")
    assert page.status_code == 413 and "过大" in page.content.decode()
