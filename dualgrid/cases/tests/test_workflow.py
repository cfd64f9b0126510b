"""The transition table, as a table: every (state, action, role) is allowed exactly when listed."""

import itertools
from collections.abc import Set as AbstractSet

import pytest

from dualgrid.accounts.models import Role
from dualgrid.cases.models import Status
from dualgrid.cases.workflow import PUBLIC, SYSTEM, TABLE, actions_for

S = Status
CENTRE: set[str] = {Role.DISPATCHER, Role.ADMIN}
HANDLERS: set[str] = {Role.GRIDWORKER, Role.HANDLER}

# The workflow of issue #2, written out independently of the implementation.
EXPECTED: dict[tuple[str, str], tuple[str, AbstractSet[str]]] = {
    (S.NEW, "accept"): (S.PENDING_DISPATCH, CENTRE),
    (S.NEW, "reject"): (S.VOID, CENTRE),
    (S.PENDING_DISPATCH, "dispatch"): (S.PENDING_SIGN, CENTRE),
    (S.PENDING_DISPATCH, "reject"): (S.VOID, CENTRE),
    (S.PENDING_SIGN, "recall"): (S.PENDING_DISPATCH, CENTRE),
    (S.PENDING_SIGN, "sign"): (S.IN_PROGRESS, HANDLERS),
    (S.PENDING_SIGN, "return"): (S.PENDING_DISPATCH, HANDLERS),
    (S.IN_PROGRESS, "return"): (S.PENDING_DISPATCH, HANDLERS),
    (S.IN_PROGRESS, "request_extension"): (S.IN_PROGRESS, HANDLERS),
    (S.IN_PROGRESS, "approve_extension"): (S.IN_PROGRESS, CENTRE),
    (S.IN_PROGRESS, "deny_extension"): (S.IN_PROGRESS, CENTRE),
    (S.IN_PROGRESS, "resolve"): (S.PENDING_VERIFY, HANDLERS),
    (S.PENDING_VERIFY, "verify"): (S.PENDING_RATING, CENTRE),
    (S.PENDING_VERIFY, "send_back"): (S.IN_PROGRESS, CENTRE),
    (S.PENDING_RATING, "rate"): (S.CLOSED, {PUBLIC, Role.CALLTAKER, Role.DISPATCHER, Role.ADMIN}),
    (S.PENDING_RATING, "close"): (S.CLOSED, CENTRE),
    (S.PENDING_RATING, "auto_close"): (S.CLOSED, {SYSTEM}),
}
ALL_ACTIONS = sorted({action for _, action in EXPECTED})
ALL_ROLES = [*Role.values, PUBLIC, SYSTEM]


@pytest.mark.parametrize(
    ("state", "action", "role"), list(itertools.product(S.values, ALL_ACTIONS, ALL_ROLES))
)
def test_each_state_action_role_is_allowed_exactly_as_specified(state: str, action: str, role: str) -> None:
    expected = EXPECTED.get((state, action))
    transition = TABLE.get((state, action))
    if expected is None:
        assert transition is None
        return
    assert transition is not None
    assert transition.next_state() == expected[0]
    assert (role in transition.roles) == (role in expected[1])


def test_unsatisfied_rating_sends_the_case_back_to_handling() -> None:
    rate = TABLE[(S.PENDING_RATING, "rate")]
    assert rate.next_state("unsatisfied") == S.IN_PROGRESS
    assert rate.next_state("basic") == S.CLOSED
    assert rate.next_state("satisfied") == S.CLOSED


def test_final_states_allow_nothing() -> None:
    for role in ALL_ROLES:
        assert actions_for(S.CLOSED, role) == []
        assert actions_for(S.VOID, role) == []


def test_actions_offered_to_a_grid_worker_in_progress() -> None:
    assert set(actions_for(S.IN_PROGRESS, Role.GRIDWORKER)) == {"return", "request_extension", "resolve"}
