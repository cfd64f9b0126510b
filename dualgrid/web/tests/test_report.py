"""/report/: a resident reports without an account."""

import re

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dualgrid.cases.models import Case, Channel, Status
from dualgrid.conftest import POINT_IN_A


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "description": "小区门口井盖松动，晚上很危险",
        "title": "",
        "category_code": "",
        "lat": str(POINT_IN_A[0]),
        "lng": str(POINT_IN_A[1]),
        "address": "大佛社区3栋门口",
        "reporter_name": "周先生",
        "reporter_phone": "13812345678",
        "grid_code": "",
        "idempotency_key": "k-0001",
    }
    data.update(overrides)
    return data


def test_the_form_carries_a_fresh_idempotency_key(cast) -> None:  # type: ignore[no-untyped-def]
    first = Client().get("/report/").content.decode()
    second = Client().get("/report/").content.decode()
    key = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')
    assert key.search(first) and key.search(second)
    assert key.search(first).group(1) != key.search(second).group(1)  # type: ignore[union-attr]


def test_it_creates_a_case_and_shows_its_number(cast, jpeg) -> None:  # type: ignore[no-untyped-def]
    resp = Client().post("/report/", {**form(), "photos": [jpeg("a.jpg"), jpeg("b.jpg")]}, follow=True)
    case = Case.objects.get()
    assert resp.status_code == 200
    assert case.channel == Channel.WEB
    assert case.grid == cast.grid_a
    assert case.attachments.count() == 2
    body = resp.content.decode()
    assert str(case.number) in body
    assert f"/track/?number={case.number}" in body


def test_a_grid_code_in_the_link_presets_the_grid(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().get(f"/report/?grid={cast.grid_b.code}")
    assert cast.grid_b.name in resp.content.decode()
    Client().post("/report/", form(lat="", lng="", address="", grid_code=cast.grid_b.code))
    assert Case.objects.get().grid == cast.grid_b


def test_an_unknown_grid_code_in_the_link_is_ignored(cast) -> None:  # type: ignore[no-untyped-def]
    body = Client().get("/report/?grid=999999999999999").content.decode()
    assert 'name="grid_code" value="999999999999999"' not in body


def test_a_double_submit_creates_one_case(cast) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    # The redirect carries a timestamped signature: both posts within one frozen second, or the test
    # fails whenever they straddle a second (seen once in a full run).
    with time_machine.travel(timezone.now(), tick=False):
        first = client.post("/report/", form(idempotency_key="same-key"))
        second = client.post("/report/", form(idempotency_key="same-key"))
    assert Case.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_an_empty_description_is_refused_next_to_the_field(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().post("/report/", form(description="   ", address="我填的地址"))
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "请填写反映的问题" in body
    assert 'value="我填的地址"' in body
    assert not Case.objects.exists()


def test_a_bad_phone_is_refused_next_to_the_field(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().post("/report/", form(reporter_phone="12345"))
    assert resp.status_code == 422
    assert "请填写正确的手机号或固定电话" in resp.content.decode()
    assert 'value="12345"' in resp.content.decode()
    assert not Case.objects.exists()


def test_a_missing_phone_is_refused_for_residents(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().post("/report/", form(reporter_phone=""))
    assert "请留下联系电话" in resp.content.decode()
    assert not Case.objects.exists()


def test_a_non_image_upload_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    fake = SimpleUploadedFile("invoice.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    resp = Client().post("/report/", {**form(), "photos": [fake]})
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "不是有效的图片" in body
    assert "小区门口井盖松动" in body
    assert not Case.objects.exists()


def test_the_done_page_needs_a_signed_number(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().get("/report/done/?t=20260101000001")
    assert resp.status_code == 302
    assert resp["Location"] == "/report/"


def test_a_case_without_category_waits_for_the_centre(cast) -> None:  # type: ignore[no-untyped-def]
    Client().post("/report/", form())
    assert Case.objects.get().status == Status.NEW
