"""Transitions through the one service: side effects, timeline, errors, nothing half-written."""

import pytest

from dualgrid.accounts.models import AuditEntry
from dualgrid.cases import services
from dualgrid.cases.models import Case, CaseEvent, CloseReason, Rating, Status
from dualgrid.cases.tests.factories import act, case_in_state, rate, report
from dualgrid.conftest import POINT_IN_A, POINT_OUTSIDE
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound

ALL_STATES = [s for s in Status.values]


@pytest.mark.parametrize("state", ALL_STATES)
def test_it_can_bring_a_case_to_every_state(cast, state) -> None:
    assert case_in_state(cast, state).status == state


def test_full_loop_is_on_the_timeline_with_actor_states_and_notes(cast) -> None:
    case = case_in_state(cast, Status.CLOSED)
    events = list(case.events.values_list("action", "from_status", "to_status", "actor_label"))
    assert [e[0] for e in events] == ["create", "accept", "dispatch", "sign", "resolve", "verify", "rate"]
    assert events[3] == ("sign", Status.PENDING_SIGN, Status.IN_PROGRESS, "worker_a（网格员）")
    assert events[-1][3] == "群众"
    assert case.close_reason == CloseReason.RATED and case.rating == Rating.SATISFIED
    assert case.closed_at is not None and case.resolved_on_time is True


def test_unsatisfied_rating_reopens_for_rework_and_counts_it(cast) -> None:
    case = case_in_state(cast, Status.PENDING_RATING)
    old_due = case.resolve_due_at
    case = rate(case, Rating.UNSATISFIED)
    assert case.status == Status.IN_PROGRESS
    assert case.rework_count == 1
    assert case.resolve_due_at is not None and old_due is not None and case.resolve_due_at > old_due
    case = act(cast.worker_a, case, "resolve", "二次处置完成")
    assert case.status == Status.PENDING_VERIFY


def test_a_transition_from_the_wrong_state_is_a_conflict_and_writes_nothing(cast) -> None:
    case = case_in_state(cast, Status.NEW)
    events = CaseEvent.objects.count()
    with pytest.raises(Conflict) as err:
        act(cast.worker_a, case, "resolve")
    assert err.value.code == "invalid_transition"
    assert "待受理" in err.value.message
    assert CaseEvent.objects.count() == events
    assert Case.objects.get(pk=case.pk).version == case.version


def test_a_stale_version_loses_and_keeps_the_winner(cast) -> None:
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk)
    with pytest.raises(Conflict) as err:
        act(cast.dispatcher, case, "reject", "重复")  # same stale version as the first
    assert err.value.code == "stale_version"
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == Status.PENDING_SIGN and stored.assigned_grid_id == cast.grid_a.pk


def test_reject_and_return_need_a_reason(cast) -> None:
    case = case_in_state(cast, Status.NEW)
    with pytest.raises(Invalid) as err:
        act(cast.dispatcher, case, "reject", "  ")
    assert err.value.field == "note"
    case = case_in_state(cast, Status.PENDING_SIGN)
    with pytest.raises(Invalid):
        act(cast.worker_a, case, "return", "")
    case = act(cast.worker_a, case, "return", "不属于本网格")
    assert case.status == Status.PENDING_DISPATCH and case.return_count == 1 and case.assigned_grid is None


def test_dispatch_needs_exactly_one_target(cast) -> None:
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    with pytest.raises(Invalid):
        act(cast.dispatcher, case, "dispatch")
    with pytest.raises(Invalid):
        act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk, department_id=cast.police.pk)
    case = act(cast.dispatcher, case, "dispatch", department_id=cast.police.pk, urgency="urgent")
    assert case.assigned_department == cast.police and case.urgency == "urgent"
    assert case.sign_due_at is not None and case.resolve_due_at is not None


def test_extension_request_approval_moves_the_deadline(cast) -> None:
    case = case_in_state(cast, Status.IN_PROGRESS)
    due = case.resolve_due_at
    with pytest.raises(Invalid):
        act(cast.worker_a, case, "request_extension", "需要协调物业", hours="abc")
    case = act(cast.worker_a, case, "request_extension", "需要协调物业", hours=48)
    assert case.extension_pending
    with pytest.raises(Conflict):
        act(cast.worker_a, case, "request_extension", "再延", hours=24)
    with pytest.raises(Forbidden):
        act(cast.worker_a, case, "approve_extension")
    case = act(cast.dispatcher, case, "approve_extension", "同意")
    assert not case.extension_pending and case.extension_count == 1
    assert due is not None and case.resolve_due_at is not None
    assert (case.resolve_due_at - due).total_seconds() == 48 * 3600


def test_deny_extension_keeps_the_deadline(cast) -> None:
    case = act(
        cast.worker_a, case_in_state(cast, Status.IN_PROGRESS), "request_extension", "等待配件", hours=24
    )
    due = case.resolve_due_at
    case = act(cast.dispatcher, case, "deny_extension", "请按期办结")
    assert case.resolve_due_at == due and case.extension_count == 0 and not case.extension_pending


def test_send_back_after_verification_counts_rework(cast) -> None:
    case = act(cast.dispatcher, case_in_state(cast, Status.PENDING_VERIFY), "send_back", "现场仍有车辆")
    assert case.status == Status.IN_PROGRESS and case.rework_count == 1


def test_rating_needs_a_valid_value(cast) -> None:
    case = case_in_state(cast, Status.PENDING_RATING)
    with pytest.raises(Invalid) as err:
        rate(case, "great")
    assert err.value.field == "rating"


def test_the_resident_cannot_take_staff_actions(cast) -> None:
    case = case_in_state(cast, Status.PENDING_VERIFY)
    with pytest.raises(Forbidden):
        services.case_transition(actor=None, public=True, case_id=case.pk, action="verify", version=None)


def test_a_forged_case_id_is_not_found(cast) -> None:
    with pytest.raises(NotFound):
        services.case_transition(actor=cast.dispatcher, case_id=999999, action="accept", version=1)


def test_reveal_phone_is_recorded_and_leaders_may_not(cast) -> None:
    case = report(cast, phone="13812345678")
    assert services.case_reveal_phone(actor=cast.dispatcher, case_id=case.pk) == "13812345678"
    event = case.events.get(action="reveal_phone")
    assert event.actor == cast.dispatcher
    audit = AuditEntry.objects.get(action="unmask")
    assert (audit.user, audit.object_type, audit.object_id) == (cast.dispatcher, "cases.Case", str(case.pk))
    with pytest.raises(Forbidden):
        services.case_reveal_phone(actor=cast.leader, case_id=case.pk)


def test_bad_input_is_rejected_with_fields_and_nothing_stored(cast) -> None:
    with pytest.raises(Invalid) as err:
        services.case_create(
            actor=None,
            data=services.CaseInput(description="", reporter_phone="12345", category_code="nope"),
        )
    assert set(err.value.errors) >= {"description", "reporter_phone", "category_code"}
    with pytest.raises(Invalid) as err:
        services.case_create(
            actor=None, data=services.CaseInput(description="x" * 5001, reporter_phone="13812345678")
        )
    assert "description" in err.value.errors
    assert Case.objects.count() == 0


def test_a_location_outside_every_grid_waits_for_the_dispatcher_flagged(cast) -> None:
    case = report(cast, point=POINT_OUTSIDE, category=cast.parking.code)
    assert case.status == Status.NEW and case.outside_grid and case.grid is None
    assert case.county == cast.county  # still visible to the district centre


def test_idempotency_key_returns_the_first_case(cast) -> None:
    data = services.CaseInput(
        description="下水管堵塞屋里灌水",
        reporter_phone="13912345678",
        lat=POINT_IN_A[0],
        lng=POINT_IN_A[1],
        idempotency_key="k-1",
    )
    first, created = services.case_create(actor=None, data=data)
    again, created_again = services.case_create(actor=None, data=data)
    assert created and not created_again and again.pk == first.pk
    assert Case.objects.count() == 1


def test_case_numbers_are_dated_and_unique(cast) -> None:
    a, b = report(cast), report(cast)
    assert a.number is not None and b.number is not None
    assert a.number != b.number and len(a.number) >= 14 and a.number[:8].isdigit()
