from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from dualgrid.cases import services
from dualgrid.cases.models import Case, Category, RequestKind
from dualgrid.cockpit.models import Warning, WarningLevel, WarningRule, WarningStatus
from dualgrid.cockpit.warnings import normalise_address, raise_warnings, warning_close
from dualgrid.conftest import POINT_IN_A, POINT_IN_B, POINT_IN_C, Cast

from .stories import local

NOW = local("2026-03-20 12:00")


@pytest.fixture
def disputes(cast: Cast) -> Category:
    """The shipped 矛盾纠纷 tree's codes (prefix "10"), created here: a flushed test may have lost them."""
    top, _ = Category.objects.get_or_create(
        code="10", defaults={"name": "矛盾纠纷", "kind": RequestKind.HELP}
    )
    leaf, _ = Category.objects.get_or_create(
        code="1001", defaults={"name": "邻里纠纷", "parent": top, "kind": RequestKind.HELP}
    )
    return leaf


def case_at(
    when: datetime,
    category: str,
    point: tuple[float, float] = POINT_IN_A,
    address: str = "",
) -> Case:
    data = services.CaseInput(
        description="楼上楼下因漏水发生争执，多次协商未果",
        reporter_name="李女士",
        reporter_phone="13900001111",
        lat=point[0],
        lng=point[1],
        address=address,
        category_code=category,
    )
    case, _ = services.case_create(actor=None, data=data, now=when)
    return case


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_three_disputes_in_a_grid_within_a_week_raise_a_yellow_warning(
    cast: Cast, disputes: Category
) -> None:
    cases = [case_at(days_ago(d), "1001") for d in (0.5, 3, 6.5)]
    case_at(days_ago(8), "1001")  # before the window
    case_at(days_ago(1), "1001", point=POINT_IN_B)  # another grid

    assert raise_warnings(NOW) == 1

    warning = Warning.objects.get()
    assert (warning.rule, warning.level, warning.status) == (
        WarningRule.DISPUTES,
        WarningLevel.YELLOW,
        "open",
    )
    assert warning.grid_id == cast.grid_a.pk
    assert warning.owner_unit_id == cast.town_a.pk
    assert sorted(warning.cases.values_list("id", flat=True)) == sorted(c.pk for c in cases)
    assert warning.reason.startswith("大佛社区第1网格近7天发生矛盾纠纷3起")


def test_two_disputes_raise_nothing(cast: Cast, disputes: Category) -> None:
    case_at(days_ago(1), "1001")
    case_at(days_ago(2), "1001")
    case_at(days_ago(2), "T0101")  # not a dispute

    assert raise_warnings(NOW) == 0
    assert not Warning.objects.exists()


def test_raising_again_is_idempotent_and_later_cases_join_and_escalate(
    cast: Cast, disputes: Category
) -> None:
    for d in (1, 2, 3):
        case_at(days_ago(d), "1001")
    assert raise_warnings(NOW) == 1
    assert raise_warnings(NOW) == 0
    assert raise_warnings(NOW + timedelta(minutes=1)) == 0

    for hours in (2, 1):
        case_at(NOW - timedelta(hours=hours), "1001")
    assert raise_warnings(NOW) == 0

    warning = Warning.objects.get()
    assert warning.cases.count() == 5
    assert warning.level == WarningLevel.ORANGE
    assert "5起" in warning.reason


def test_after_closing_only_new_cases_raise_the_next_warning(cast: Cast, disputes: Category) -> None:
    for d in (1, 2, 3):
        case_at(days_ago(d), "1001")
    raise_warnings(NOW)
    first = Warning.objects.get()
    warning_close(actor=cast.dispatcher, warning_id=first.pk, note="已组织调解，双方达成协议")

    assert raise_warnings(NOW + timedelta(hours=1)) == 0  # the same three cases

    later = NOW + timedelta(days=2)
    for h in (1, 2, 3):
        case_at(later - timedelta(hours=h), "1001")
    assert raise_warnings(later) == 1
    second = Warning.objects.exclude(pk=first.pk).get()
    assert second.cases.count() == 3


def test_a_surge_against_the_grids_own_baseline_raises_a_warning(cast: Cast) -> None:
    # 8 cases over the 8 weeks before the window: one a week on average; 3 this week is 3×.
    for week in range(8):
        case_at(days_ago(7 + week * 7 + 3), "T0101")
    for d in (1, 2, 3):
        case_at(days_ago(d), "T0101")

    assert raise_warnings(NOW) == 1
    warning = Warning.objects.get()
    assert warning.rule == WarningRule.SURGE
    assert warning.category_id == cast.parking.pk
    assert warning.cases.count() == 3
    assert "前8周平均每7天1.0起，为平时的3.0倍" in warning.reason


def test_the_usual_volume_is_no_surge(cast: Cast) -> None:
    # Two a week before, three this week: below three times the baseline.
    for week in range(8):
        for extra in (2, 4):
            case_at(days_ago(7 + week * 7 + extra), "T0101")
    for d in (1, 2, 3):
        case_at(days_ago(d), "T0101")

    assert raise_warnings(NOW) == 0


def test_five_reports_about_one_address_however_written_raise_a_flood_warning(cast: Cast) -> None:
    spellings = [
        "大佛社区3栋门口",
        "大佛社区 3栋门口",
        "大佛社区３栋门口。",
        "大佛社区3栋门口",
        "大佛社区3栋-门口",
    ]
    categories = ["T0101", "T0201", "T0101", "T04", None]  # no category reaches a surge
    for i, (address, category) in enumerate(zip(spellings, categories, strict=True)):
        case_at(days_ago(i + 0.5), category, address=address)  # type: ignore[arg-type]
    case_at(days_ago(1), "T0201", address="大佛社区4栋门口")

    assert raise_warnings(NOW) == 1
    warning = Warning.objects.get()
    assert warning.rule == WarningRule.ADDRESS
    assert warning.cases.count() == 5
    assert warning.address == "大佛社区3栋门口"
    assert "被反映5次" in warning.reason


def test_addresses_are_normalised() -> None:
    assert normalise_address(" 大佛社区３栋，门口 ") == normalise_address("大佛社区3栋门口")


# --- pages and scope ------------------------------------------------------------------------------


@pytest.fixture
def warning_in_town_a(cast: Cast, disputes: Category) -> Warning:
    for d in (1, 2, 3):
        case_at(days_ago(d), "1001")
    raise_warnings(NOW)
    return Warning.objects.get()


def test_the_list_shows_warnings_in_scope_only(cast: Cast, warning_in_town_a: Warning, login: Any) -> None:
    for d in (1, 2, 3):
        case_at(days_ago(d), "1001", point=POINT_IN_C)
    raise_warnings(NOW)
    in_town_b = Warning.objects.get(town=cast.town_b)

    county: Client = login(cast.leader)
    listed = county.get("/cockpit/warnings/")
    assert listed.status_code == 200
    assert {w.pk for w in listed.context["page"].object_list} == {warning_in_town_a.pk, in_town_b.pk}
    assert "大佛社区第1网格近7天发生矛盾纠纷3起" in listed.content.decode()

    town_b: Client = login(cast.town_dispatcher)
    assert [w.pk for w in town_b.get("/cockpit/warnings/").context["page"].object_list] == [in_town_b.pk]
    assert town_b.get(f"/cockpit/warnings/{warning_in_town_a.pk}/").status_code == 404
    assert town_b.post(f"/cockpit/warnings/{warning_in_town_a.pk}/acknowledge").status_code == 404

    assert login(cast.worker_a).get("/cockpit/warnings/").status_code == 403


def test_the_list_filters_by_level_and_status(cast: Cast, warning_in_town_a: Warning, login: Any) -> None:
    client: Client = login(cast.dispatcher)
    assert len(client.get("/cockpit/warnings/?level=yellow").context["page"].object_list) == 1
    assert len(client.get("/cockpit/warnings/?level=red").context["page"].object_list) == 0
    assert len(client.get("/cockpit/warnings/?status=closed").context["page"].object_list) == 0


def test_a_dispatcher_acknowledges_and_closes_a_warning(
    cast: Cast, warning_in_town_a: Warning, login: Any
) -> None:
    client: Client = login(cast.dispatcher)
    url = f"/cockpit/warnings/{warning_in_town_a.pk}/"
    page = client.get(url).content.decode()
    assert "确认预警" in page and "关闭预警" in page
    for case in warning_in_town_a.cases.all():
        assert str(case.number) in page

    client.post(url + "acknowledge")
    warning_in_town_a.refresh_from_db()
    assert warning_in_town_a.status == WarningStatus.ACKNOWLEDGED
    assert warning_in_town_a.acknowledged_by == cast.dispatcher
    assert warning_in_town_a.acknowledged_at is not None

    refused = client.post(url + "close", {"note": "  "}, follow=True)
    assert "请填写处置说明" in refused.content.decode()
    warning_in_town_a.refresh_from_db()
    assert warning_in_town_a.status == WarningStatus.ACKNOWLEDGED

    client.post(url + "close", {"note": "已组织人民调解，双方签订调解协议书"})
    warning_in_town_a.refresh_from_db()
    assert warning_in_town_a.status == WarningStatus.CLOSED
    assert warning_in_town_a.closed_by == cast.dispatcher
    assert warning_in_town_a.close_note == "已组织人民调解，双方签订调解协议书"

    again = client.post(url + "acknowledge", follow=True)
    assert "预警状态已变化" in again.content.decode()


def test_a_leader_reads_but_cannot_act(cast: Cast, warning_in_town_a: Warning, login: Any) -> None:
    client: Client = login(cast.leader)
    url = f"/cockpit/warnings/{warning_in_town_a.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "确认预警" not in page.content.decode()
    assert client.post(url + "acknowledge").status_code == 403
    warning_in_town_a.refresh_from_db()
    assert warning_in_town_a.status == WarningStatus.OPEN


def test_the_owner_may_act_whatever_their_role(cast: Cast, warning_in_town_a: Warning, login: Any) -> None:
    Warning.objects.filter(pk=warning_in_town_a.pk).update(owner=cast.leader)
    client: Client = login(cast.leader)
    client.post(f"/cockpit/warnings/{warning_in_town_a.pk}/acknowledge")
    warning_in_town_a.refresh_from_db()
    assert warning_in_town_a.status == WarningStatus.ACKNOWLEDGED
