"""People pages: who may open them, the grid staff forms, the phone visit list and form, compliance."""

from datetime import date

import pytest
import time_machine

from dualgrid.cases.models import Case
from dualgrid.people import services
from dualgrid.people.models import Assignment, Staff, Visit
from dualgrid.people.tests.conftest import role, tag

NOW = "2025-11-19 10:00 +08:00"  # a Wednesday


@pytest.fixture(autouse=True)
def _frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def served(cast, make_staff):  # type: ignore[no-untyped-def]
    cast.worker_a.grids.clear()
    staff = make_staff("张建国", cast.worker_a)
    services.assignment_start(
        actor=None, staff=staff, grid=cast.grid_a, role=role("full_time"), start=date(2025, 3, 1)
    )
    return staff


@pytest.fixture
def elder(cast, make_resident):  # type: ignore[no-untyped-def]
    resident = make_resident(cast.grid_a, "王秀英")
    services.resident_tag_add(actor=None, resident=resident, tag=tag("care", "01"), since=date(2025, 10, 1))
    return resident


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("worker_a", "/people/visits/", 200),
        ("dispatcher", "/people/visits/", 403),
        ("dispatcher", "/people/visits/compliance/", 200),
        ("leader", "/people/visits/compliance/", 200),
        ("worker_a", "/people/visits/compliance/", 403),
        ("dispatcher", "/people/grids/{a}/staff/", 200),
        ("admin", "/people/grids/{a}/staff/", 200),
        ("town_dispatcher", "/people/grids/{a}/staff/", 404),
        ("leader", "/people/grids/{a}/staff/", 403),
        ("worker_a", "/people/grids/{a}/staff/", 403),
        ("handler", "/people/staff/", 403),
        ("worker_a", "/people/staff/", 200),
        ("handler", "/people/residents/", 403),
    ],
)
def test_who_may_open_which_page(cast, login, who, url, status) -> None:  # type: ignore[no-untyped-def]
    resp = login(getattr(cast, who)).get(url.format(a=cast.grid_a.pk))
    assert resp.status_code == status


def test_the_visit_list_shows_the_workers_due_people_with_tags(cast, served, elder, login) -> None:
    body = login(cast.worker_a).get("/people/visits/").content.decode()
    assert "王秀英" in body and "空巢(独居)老人" in body and "已逾期" in body
    assert f"/people/residents/{elder.pk}/visit/" in body


def test_logging_a_visit_that_raises_a_case(cast, served, elder, login, jpeg) -> None:
    client = login(cast.worker_a)
    resp = client.post(
        f"/people/residents/{elder.pk}/visit/",
        {
            "visited_at": "2025-11-19T09:30",
            "kind": "home",
            "found": "屋顶瓦片破损漏雨，老人无力修缮",
            "photo": jpeg(),
            "raise_case": "on",
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/people/visits/"
    visit = Visit.objects.get()
    assert visit.visitor == cast.worker_a and visit.raised_case is not None
    assert Case.objects.get().description == "屋顶瓦片破损漏雨，老人无力修缮"
    body = client.get("/people/visits/").content.decode()
    assert "已上报事件" in body and "已走访 1 人" in body


def test_a_visit_without_findings_is_refused_in_chinese(cast, served, elder, login) -> None:
    resp = login(cast.worker_a).post(f"/people/residents/{elder.pk}/visit/", {"kind": "phone", "found": " "})
    assert resp.status_code == 422
    assert "请填写走访情况" in resp.content.decode()
    assert not Visit.objects.exists()


def test_replacing_a_worker_with_a_new_person_from_the_page(cast, served, login) -> None:
    current = Assignment.objects.get(staff=served)
    client = login(cast.dispatcher)
    resp = client.post(
        f"/people/grids/{cast.grid_a.pk}/staff/replace/",
        {
            "assignment": current.pk,
            "staff": "new",
            "new_name": "李秀兰",
            "new_gender": "F",
            "new_phone": "13911112222",
            "new_username": "worker_b",
            "on_date": "2025-11-19",
            "reason": "调任镇便民服务中心",
        },
    )
    assert resp.status_code == 302
    new = Staff.objects.get(name="李秀兰")
    assert new.user == cast.worker_b
    assert not cast.worker_a.grids.exists()
    assert cast.worker_b.grids.filter(pk=cast.grid_a.pk).exists()
    page = client.get(resp["Location"]).content.decode()
    assert "已更换：李秀兰接替张建国" in page and "调任镇便民服务中心" in page


def test_an_overlapping_assignment_is_shown_next_to_the_form(cast, served, login) -> None:
    resp = login(cast.dispatcher).post(
        f"/people/grids/{cast.grid_a.pk}/staff/add/",
        {"staff": served.pk, "role": role("full_time").pk, "start_date": "2025-06-01"},
    )
    assert resp.status_code == 422
    assert "任职期间不能重叠" in resp.content.decode()
    assert Assignment.objects.count() == 1


def test_an_invalid_new_person_leaves_nothing_behind(cast, served, login) -> None:
    resp = login(cast.dispatcher).post(
        f"/people/grids/{cast.grid_a.pk}/staff/add/",
        {
            "staff": "new",
            "new_name": "赵强",
            "new_id_number": "110105194912310021",
            "role": role("part_time").pk,
            "start_date": "2025-11-19",
        },
    )
    assert resp.status_code == 422
    assert "身份证号校验位错误" in resp.content.decode()
    assert not Staff.objects.filter(name="赵强").exists()


def test_ending_an_assignment_from_the_page(cast, served, login) -> None:
    current = Assignment.objects.get(staff=served)
    resp = login(cast.dispatcher).post(
        f"/people/grids/{cast.grid_a.pk}/staff/{current.pk}/end/",
        {f"end{current.pk}-end_date": "2025-11-19", f"end{current.pk}-reason": "辞职"},
    )
    assert resp.status_code == 302
    assert not cast.worker_a.grids.exists()


def test_the_staff_page_answers_who_served_on_a_past_day(cast, served, login) -> None:
    body = (
        login(cast.dispatcher)
        .get(f"/people/grids/{cast.grid_a.pk}/staff/", {"on": "2025-03-01"})
        .content.decode()
    )
    assert "2025-03-01 在岗：" in body and "张建国（专职网格员）" in body


def test_the_compliance_page_shows_grids_and_workers(cast, served, elder, login) -> None:
    body = login(cast.dispatcher).get("/people/visits/compliance/", {"week": "2025-11-17"}).content.decode()
    assert "大佛社区第1网格" in body and "张建国" in body and "本周尚未结束" in body
