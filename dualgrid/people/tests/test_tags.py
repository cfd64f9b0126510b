"""Tags on the resident page: who may add and end them, Chinese errors, and an ended tag kept as history
that no longer asks for visits."""

from datetime import date

import pytest
import time_machine

from dualgrid.lib.errors import Conflict, Invalid
from dualgrid.people import services
from dualgrid.people.models import Concern, ResidentTag
from dualgrid.people.selectors import resident_list, visit_compliance, visits_due
from dualgrid.people.tests.conftest import tag

NOW = "2025-11-19 10:00 +08:00"  # a Wednesday


@pytest.fixture(autouse=True)
def _frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def elder(cast, make_resident):  # type: ignore[no-untyped-def]
    resident = make_resident(cast.grid_a, "王秀英")
    services.resident_tag_add(actor=None, resident=resident, tag=tag("care", "01"), since=date(2025, 10, 1))
    return resident


def current(resident) -> ResidentTag:  # type: ignore[no-untyped-def]
    return ResidentTag.objects.get(resident=resident, ended_on__isnull=True)


def add_url(resident) -> str:  # type: ignore[no-untyped-def]
    return f"/people/residents/{resident.pk}/tags/"


def end_url(resident_tag) -> str:  # type: ignore[no-untyped-def]
    return f"/people/residents/{resident_tag.resident_id}/tags/{resident_tag.pk}/end/"


def end_form(resident_tag, ended_on: str = "2025-11-19", reason: str = "已搬离本社区") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f"end{resident_tag.pk}-ended_on": ended_on, f"end{resident_tag.pk}-reason": reason}


def test_a_grid_worker_adds_a_tag_with_concern_and_note(cast, elder, login) -> None:  # type: ignore[no-untyped-def]
    disabled = tag("care", "05")
    client = login(cast.worker_a)
    resp = client.post(
        add_url(elder),
        {"tag": disabled.pk, "level": "severe", "since": "2025-11-18", "note": "行动不便，需上门"},
    )
    assert resp.status_code == 302
    added = ResidentTag.objects.get(resident=elder, tag=disabled)
    assert (added.level, added.since, added.note, added.created_by) == (
        Concern.SEVERE,
        date(2025, 11, 18),
        "行动不便，需上门",
        cast.worker_a,
    )
    body = client.get(resp["Location"]).content.decode()
    assert f"已为王秀英添加标签：{disabled.name}（严重）" in body and "行动不便，需上门" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tag": "", "level": "normal"}, "请选择标签"),
        ({"level": "normal", "since": "2025-11-20"}, "纳入日期不能晚于今天"),
        ({"level": "normal", "since": "2025-13-01"}, "纳入日期不存在"),
        ({"level": "normal", "since": "昨天"}, "纳入日期格式应为YYYY-MM-DD"),
        ({"level": "normal", "note": "很" * 201}, "备注不能超过200字"),
    ],
)
def test_bad_tag_input_is_refused_in_chinese(cast, elder, login, data, message) -> None:  # type: ignore[no-untyped-def]
    data = {"tag": tag("care", "05").pk, **data}
    resp = login(cast.worker_a).post(add_url(elder), data)
    assert resp.status_code == 422
    assert message in resp.content.decode()
    assert ResidentTag.objects.filter(resident=elder).count() == 1


def test_a_tag_held_already_is_not_offered_and_not_added_twice(cast, elder, login) -> None:  # type: ignore[no-untyped-def]
    care = tag("care", "01")
    client = login(cast.worker_a)
    page = client.get(f"/people/residents/{elder.pk}/").content.decode()
    assert f'<option value="{care.pk}">' not in page and f'<option value="{tag("care", "05").pk}">' in page
    resp = client.post(add_url(elder), {"tag": care.pk, "level": "normal"})
    assert resp.status_code == 422
    assert f"王秀英已有标签“{care.name}”" in resp.content.decode()
    assert ResidentTag.objects.filter(resident=elder).count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("worker_a", 302),
        ("dispatcher", 302),
        ("admin", 302),
        ("worker_b", 404),
        ("town_dispatcher", 404),
        ("leader", 403),
    ],
)
def test_who_may_add_a_tag(cast, elder, login, who, status) -> None:  # type: ignore[no-untyped-def]
    resp = login(getattr(cast, who)).post(add_url(elder), {"tag": tag("care", "05").pk, "level": "normal"})
    assert resp.status_code == status
    assert ResidentTag.objects.filter(resident=elder, tag=tag("care", "05")).exists() is (status == 302)


@pytest.mark.parametrize(
    ("who", "status"), [("worker_a", 302), ("worker_b", 404), ("town_dispatcher", 404), ("leader", 403)]
)
def test_who_may_end_a_tag(cast, elder, login, who, status) -> None:  # type: ignore[no-untyped-def]
    held = current(elder)
    resp = login(getattr(cast, who)).post(end_url(held), end_form(held))
    assert resp.status_code == status
    held.refresh_from_db()
    assert (held.ended_on is not None) is (status == 302)


def test_an_ended_tag_moves_to_the_history(cast, elder, login) -> None:  # type: ignore[no-untyped-def]
    held = current(elder)
    client = login(cast.worker_a)
    resp = client.post(end_url(held), end_form(held, reason="已搬至子女家居住"))
    assert resp.status_code == 302
    held.refresh_from_db()
    assert (held.ended_on, held.end_reason, held.ended_by) == (
        date(2025, 11, 19),
        "已搬至子女家居住",
        cast.worker_a,
    )
    body = client.get(resp["Location"]).content.decode()
    current_part, history = body.split("标签历史（已结束 1 个）")
    assert "没有标签" in current_part and "已搬至子女家居住" in history and "2025-11-19" in history


def test_an_ended_tag_drops_out_of_the_weekly_due_list(cast, elder, login) -> None:  # type: ignore[no-untyped-def]
    assert [i.resident for i in visits_due(cast.worker_a)] == [elder]
    held = current(elder)
    login(cast.worker_a).post(end_url(held), end_form(held))
    assert visits_due(cast.worker_a) == []
    assert "王秀英" not in login(cast.worker_a).get("/people/visits/").content.decode()


def test_a_past_weeks_compliance_still_counts_a_tag_ended_since(cast, elder) -> None:  # type: ignore[no-untyped-def]
    services.resident_tag_end(
        actor=cast.worker_a, resident_tag=current(elder), ended_on="2025-11-18", reason="去世"
    )
    assert visit_compliance(cast.dispatcher, date(2025, 11, 10)).total.due == 1
    assert (
        visit_compliance(cast.dispatcher, date(2025, 11, 17)).total.due == 1
    )  # ended on Tuesday of that week
    assert visit_compliance(cast.dispatcher, date(2025, 11, 24)).total.due == 0


def test_the_tag_filter_of_the_resident_list_ignores_ended_tags(cast, elder) -> None:  # type: ignore[no-untyped-def]
    care = tag("care", "01")
    assert list(resident_list(cast.worker_a, tag_id=care.pk)) == [elder]
    services.resident_tag_end(
        actor=cast.worker_a, resident_tag=current(elder), ended_on="2025-11-19", reason="已脱贫"
    )
    assert list(resident_list(cast.worker_a, tag_id=care.pk)) == []


@pytest.mark.parametrize(
    ("ended_on", "reason", "message"),
    [
        ("", "已搬离", "请填写结束日期"),
        ("2025-11-20", "已搬离", "结束日期不能晚于今天"),
        ("2025-09-30", "已搬离", "结束日期不能早于纳入日期（2025-10-01）"),
        ("2025-11-19", " ", "请填写结束原因"),
    ],
)
def test_bad_end_input_is_refused_in_chinese(cast, elder, login, ended_on, reason, message) -> None:  # type: ignore[no-untyped-def]
    held = current(elder)
    resp = login(cast.worker_a).post(end_url(held), end_form(held, ended_on, reason))
    assert resp.status_code == 422
    assert message in resp.content.decode()
    held.refresh_from_db()
    assert held.ended_on is None


def test_ending_a_tag_twice_is_a_conflict(cast, elder, login) -> None:  # type: ignore[no-untyped-def]
    held = current(elder)
    services.resident_tag_end(actor=cast.worker_a, resident_tag=held, ended_on="2025-11-19", reason="已搬离")
    stale = ResidentTag.objects.get(pk=held.pk)
    stale.ended_on = None  # what a second page opened before the first end still shows
    with pytest.raises(Conflict, match="已经结束"):
        services.resident_tag_end(
            actor=cast.dispatcher, resident_tag=stale, ended_on="2025-11-19", reason="重复"
        )
    resp = login(cast.dispatcher).post(end_url(held), end_form(held))
    assert resp.status_code == 422 and "已经结束" in resp.content.decode()
    held.refresh_from_db()
    assert held.end_reason == "已搬离" and held.ended_by == cast.worker_a


def test_an_ended_tag_may_be_given_again(cast, elder) -> None:  # type: ignore[no-untyped-def]
    care = tag("care", "01")
    services.resident_tag_end(
        actor=cast.worker_a, resident_tag=current(elder), ended_on="2025-11-01", reason="外出务工"
    )
    again = services.resident_tag_add(actor=cast.worker_a, resident=elder, tag=care, since="2025-11-19")
    assert current(elder) == again
    assert ResidentTag.objects.filter(resident=elder, tag=care).count() == 2
    assert [i.rule.since for i in visits_due(cast.worker_a)] == [date(2025, 11, 19)]


def test_the_services_check_the_concern_level(cast, elder) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as info:
        services.resident_tag_add(actor=cast.worker_a, resident=elder, tag=tag("care", "05"), level="extreme")
    assert info.value.errors == {"level": "关注程度应为一般、中等或严重"}
