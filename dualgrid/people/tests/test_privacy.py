"""ID and phone numbers: encrypted at rest, masked everywhere, revealed per record with an audit row,
found by their full value."""

from datetime import date

import pytest
from django.db import connection

from dualgrid.accounts.models import AuditEntry
from dualgrid.lib.errors import Forbidden, Invalid, NotFound
from dualgrid.people import services
from dualgrid.people.selectors import resident_list, staff_list
from dualgrid.people.tests.conftest import role

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def elder(cast, make_resident):  # type: ignore[no-untyped-def]
    return make_resident(cast.grid_a, "王秀英", id_number=ID_NUMBER, phone=PHONE, gender="F")


@pytest.fixture
def worker(cast, make_staff):  # type: ignore[no-untyped-def]
    staff = make_staff("张建国", cast.worker_a, phone="13900001111", id_number="50015219850304001X")
    services.assignment_start(
        actor=None, staff=staff, grid=cast.grid_a, role=role("full_time"), start=date(2025, 1, 1)
    )
    return staff


def test_numbers_are_stored_encrypted(elder) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM people_resident WHERE id = %s", [elder.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("enc1:") for value in stored)
    assert "002X" not in stored[0] and "5678" not in stored[1]


def test_unmasking_a_resident_writes_an_audit_entry(cast, elder) -> None:
    revealed = services.resident_unmask(actor=cast.worker_a, resident_id=elder.pk)
    assert revealed.id_number == ID_NUMBER and revealed.phone == PHONE
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id) == (
        cast.worker_a,
        "unmask",
        "people.Resident",
        str(elder.pk),
    )


def test_a_worker_of_another_grid_cannot_unmask(cast, elder, login) -> None:
    with pytest.raises(NotFound):
        services.resident_unmask(actor=cast.worker_b, resident_id=elder.pk)
    resp = login(cast.worker_b).post(f"/people/residents/{elder.pk}/unmask/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 404
    assert ID_NUMBER not in resp.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_leader_sees_the_resident_masked_but_may_not_unmask(cast, elder, login) -> None:
    with pytest.raises(Forbidden):
        services.resident_unmask(actor=cast.leader, resident_id=elder.pk)
    body = login(cast.leader).get(f"/people/residents/{elder.pk}/").content.decode()
    assert "1101**********002X" in body and "138****5678" in body
    assert "查看完整信息" not in body


def test_the_unmask_button_returns_the_full_numbers_in_place(cast, elder, login) -> None:
    resp = login(cast.dispatcher).post(f"/people/residents/{elder.pk}/unmask/", HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert ID_NUMBER in body and PHONE in body and "已记录" in body
    assert AuditEntry.objects.filter(user=cast.dispatcher, action="unmask").count() == 1


@pytest.mark.parametrize(
    "url", ["/people/residents/", "/people/residents/{id}/", "/people/residents/{id}/visit/"]
)
def test_resident_pages_show_masked_numbers(cast, elder, login, url) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.worker_a).get(url.format(id=elder.pk)).content.decode()
    assert "1101**********002X" in body and "138****5678" in body
    assert ID_NUMBER not in body and PHONE not in body


@pytest.mark.parametrize("url", ["/people/staff/", "/people/grids/{grid}/staff/"])
def test_staff_pages_show_masked_numbers(cast, worker, login, url) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.dispatcher).get(url.format(grid=cast.grid_a.pk)).content.decode()
    assert "139****1111" in body
    assert "13900001111" not in body and "50015219850304001X" not in body


def test_unmasking_staff_is_for_managers_and_audited(cast, worker, login) -> None:
    assert login(cast.worker_a).post(f"/people/staff/{worker.pk}/unmask/").status_code == 403
    resp = login(cast.dispatcher).post(f"/people/staff/{worker.pk}/unmask/", HTTP_HX_REQUEST="true")
    assert "50015219850304001X" in resp.content.decode()
    assert AuditEntry.objects.get().object_type == "people.Staff"


def test_residents_are_found_by_full_phone_or_id_number(cast, elder, make_resident) -> None:
    make_resident(cast.grid_a, "李德芬")
    assert list(resident_list(cast.dispatcher, query="138 1234 5678")) == [elder]
    assert list(resident_list(cast.dispatcher, query=ID_NUMBER.lower())) == [elder]
    assert list(resident_list(cast.dispatcher, query="5678")) == []  # a fragment is no search key
    assert list(resident_list(cast.worker_b, query=PHONE)) == []  # and scope still applies


def test_staff_are_found_by_full_phone_or_id_number(cast, worker) -> None:
    assert list(staff_list(cast.dispatcher, query="13900001111")) == [worker]
    assert list(staff_list(cast.dispatcher, query="50015219850304001X")) == [worker]


def test_search_by_phone_works_on_the_page(cast, elder, login) -> None:
    body = login(cast.dispatcher).get("/people/residents/", {"q": PHONE}).content.decode()
    assert "王秀英" in body and "138****5678" in body
    # Only where the user typed it: the search box and the export links that repeat the filters.
    assert body.count(PHONE) == 1 + body.count(f"q={PHONE}")
    assert f'value="{PHONE}"' in body


def test_a_bad_id_checksum_is_refused_when_registering(cast) -> None:
    with pytest.raises(Invalid) as exc:
        services.resident_create(
            actor=cast.worker_a,
            data=services.ResidentInput(
                name="张三", grid_code=cast.grid_a.code, id_number="110105194912310021"
            ),
        )
    assert exc.value.errors["id_number"] == "身份证号校验位错误，请核对"


def test_a_birth_date_that_contradicts_the_id_number_is_refused(cast) -> None:
    with pytest.raises(Invalid) as exc:
        services.resident_create(
            actor=None,
            data=services.ResidentInput(
                name="张三", grid_code=cast.grid_a.code, id_number=ID_NUMBER, birth_date="1950-01-01"
            ),
        )
    assert "出生日期与身份证号不一致" in exc.value.errors["birth_date"]


def test_a_resident_in_a_grid_that_does_not_exist_is_refused(cast) -> None:
    with pytest.raises(Invalid) as exc:
        services.resident_create(
            actor=None, data=services.ResidentInput(name="张三", grid_code="500152999999999")
        )
    assert exc.value.errors["grid_code"] == "网格不存在：500152999999999"


@pytest.mark.parametrize("path", ["resident/", "resident/{r}/change/", "staff/", "staff/{s}/change/"])
def test_the_admin_shows_numbers_masked_and_read_only(cast, elder, worker, login, path) -> None:  # type: ignore[no-untyped-def]
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save()
    resp = login(cast.admin).get("/admin/people/" + path.format(r=elder.pk, s=worker.pk))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert ID_NUMBER not in body and PHONE not in body and "13900001111" not in body
    assert "1101**********002X" in body or "139****1111" in body
