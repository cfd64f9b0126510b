"""/track/: a resident follows a case by number and the last 4 digits of the phone."""

from django.test import Client

from dualgrid.cases.models import Case, Status
from dualgrid.cases.tests.factories import case_in_state

NEUTRAL = "未查询到匹配的事件，请核对事件编号和手机号后4位。"


def lookup(case: Case, last4: str = "5678", **extra: str):  # type: ignore[no-untyped-def]
    return Client().post("/track/", {"number": case.number, "last4": last4, **extra})


def test_it_shows_status_and_a_public_timeline(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.IN_PROGRESS)
    body = lookup(case).content.decode()
    assert "处置中" in body
    assert cast.grid_a.name in body
    assert "网格员" in body
    assert "worker_a" not in body and "dispatcher" not in body
    assert "138****5678" in body
    assert "13812345678" not in body
    assert "张**" in body


def test_a_wrong_last4_and_an_unknown_number_get_the_same_message(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    wrong_last4 = lookup(case, last4="0000")
    unknown = Client().post("/track/", {"number": "20990101999999", "last4": "5678"})
    assert NEUTRAL in wrong_last4.content.decode()
    assert NEUTRAL in unknown.content.decode()
    assert wrong_last4.status_code == unknown.status_code == 200
    assert case.title not in wrong_last4.content.decode()


def test_repeated_misses_on_one_number_are_blocked(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    for _ in range(10):
        lookup(case, last4="0000")
    resp = lookup(case)  # even the right digits now wait
    assert resp.status_code == 429
    assert "查询失败次数过多" in resp.content.decode()


def test_rating_closes_a_case_waiting_for_it(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_RATING)
    resp = lookup(case, rating="satisfied", note="处理很及时")
    case.refresh_from_db()
    assert resp.status_code == 200
    assert "感谢您的评价" in resp.content.decode()
    assert case.status == Status.CLOSED
    assert case.rating == "satisfied"
    assert case.events.get(action="rate").actor_label == "群众"


def test_rating_buttons_show_only_when_waiting_for_a_rating(cast) -> None:  # type: ignore[no-untyped-def]
    waiting = case_in_state(cast, Status.PENDING_RATING)
    assert 'value="unsatisfied"' in lookup(waiting).content.decode()
    busy = case_in_state(cast, Status.IN_PROGRESS)
    assert 'value="unsatisfied"' not in lookup(busy).content.decode()


def test_rating_is_refused_before_the_case_waits_for_it(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.IN_PROGRESS)
    resp = lookup(case, rating="satisfied")
    case.refresh_from_db()
    assert resp.status_code == 409
    assert "暂不能评价" in resp.content.decode()
    assert case.status == Status.IN_PROGRESS
    assert not case.events.filter(action="rate").exists()


def test_rating_rechecks_the_lookup(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_RATING)
    resp = lookup(case, last4="0000", rating="unsatisfied")
    case.refresh_from_db()
    assert NEUTRAL in resp.content.decode()
    assert case.status == Status.PENDING_RATING


def test_unsatisfied_sends_the_case_back_to_work(cast) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_RATING)
    lookup(case, rating="unsatisfied", note="没有修好")
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
