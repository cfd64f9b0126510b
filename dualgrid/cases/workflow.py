"""The case workflow as data: ``(state, action) → next state, roles allowed``.

Every transition of every case is checked against this one table by ``services.case_transition``.
``PUBLIC`` stands for a resident acting from the tracking page (no account); ``SYSTEM`` for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from dualgrid.accounts.models import Role

from .models import Rating, Status

PUBLIC = "public"
SYSTEM = "system"

S = Status
R = Role


class Action:
    ACCEPT = "accept"
    REJECT = "reject"
    DISPATCH = "dispatch"
    RECALL = "recall"
    SIGN = "sign"
    RETURN = "return"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    RESOLVE = "resolve"
    VERIFY = "verify"
    SEND_BACK = "send_back"
    RATE = "rate"
    CLOSE = "close"
    AUTO_CLOSE = "auto_close"


ACTION_LABELS = {
    Action.ACCEPT: "受理",
    Action.REJECT: "不予受理",
    Action.DISPATCH: "派单",
    Action.RECALL: "撤回派单",
    Action.SIGN: "签收",
    Action.RETURN: "退回",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.APPROVE_EXTENSION: "批准延期",
    Action.DENY_EXTENSION: "驳回延期",
    Action.RESOLVE: "办结反馈",
    Action.VERIFY: "核查通过",
    Action.SEND_BACK: "核查不通过",
    Action.RATE: "评价",
    Action.CLOSE: "结案",
    Action.AUTO_CLOSE: "逾期未评价自动结案",
    # Events that are not transitions but appear on the timeline.
    "create": "登记",
    "auto_dispatch": "平台派单",
    "classify": "修改分类/紧急程度",
    "reveal_phone": "查看完整电话",
    "deadline_warning": "即将超期",
    "deadline_overdue": "已超期",
}


@dataclass(frozen=True)
class Transition:
    to: str
    roles: frozenset[str]
    # For ``rate``: the next state depends on the rating given.
    branches: tuple[tuple[str, str], ...] = ()

    def next_state(self, rating: str | None = None) -> str:
        for value, state in self.branches:
            if value == rating:
                return state
        return self.to


CENTRE = frozenset({R.DISPATCHER, R.ADMIN})
HANDLERS = frozenset({R.GRIDWORKER, R.HANDLER})
RATERS = frozenset({PUBLIC, R.CALLTAKER, R.DISPATCHER, R.ADMIN})

TABLE: dict[tuple[str, str], Transition] = {
    (S.NEW, Action.ACCEPT): Transition(S.PENDING_DISPATCH, CENTRE),
    (S.NEW, Action.REJECT): Transition(S.VOID, CENTRE),
    (S.PENDING_DISPATCH, Action.DISPATCH): Transition(S.PENDING_SIGN, CENTRE),
    (S.PENDING_DISPATCH, Action.REJECT): Transition(S.VOID, CENTRE),
    (S.PENDING_SIGN, Action.RECALL): Transition(S.PENDING_DISPATCH, CENTRE),
    (S.PENDING_SIGN, Action.SIGN): Transition(S.IN_PROGRESS, HANDLERS),
    (S.PENDING_SIGN, Action.RETURN): Transition(S.PENDING_DISPATCH, HANDLERS),
    (S.IN_PROGRESS, Action.RETURN): Transition(S.PENDING_DISPATCH, HANDLERS),
    (S.IN_PROGRESS, Action.REQUEST_EXTENSION): Transition(S.IN_PROGRESS, HANDLERS),
    (S.IN_PROGRESS, Action.APPROVE_EXTENSION): Transition(S.IN_PROGRESS, CENTRE),
    (S.IN_PROGRESS, Action.DENY_EXTENSION): Transition(S.IN_PROGRESS, CENTRE),
    (S.IN_PROGRESS, Action.RESOLVE): Transition(S.PENDING_VERIFY, HANDLERS),
    (S.PENDING_VERIFY, Action.VERIFY): Transition(S.PENDING_RATING, CENTRE),
    (S.PENDING_VERIFY, Action.SEND_BACK): Transition(S.IN_PROGRESS, CENTRE),
    (S.PENDING_RATING, Action.RATE): Transition(
        S.CLOSED,
        RATERS,
        branches=(
            (Rating.SATISFIED, S.CLOSED),
            (Rating.BASIC, S.CLOSED),
            (Rating.UNSATISFIED, S.IN_PROGRESS),
        ),
    ),
    (S.PENDING_RATING, Action.CLOSE): Transition(S.CLOSED, CENTRE),
    (S.PENDING_RATING, Action.AUTO_CLOSE): Transition(S.CLOSED, frozenset({SYSTEM})),
}

ACTIVE_STATES = frozenset({S.NEW, S.PENDING_DISPATCH, S.PENDING_SIGN, S.IN_PROGRESS, S.PENDING_VERIFY})
FINAL_STATES = frozenset({S.CLOSED, S.VOID})


def transition_for(state: str, action: str) -> Transition | None:
    return TABLE.get((state, action))


def actions_for(state: str, role: str) -> list[str]:
    return [action for (st, action), t in TABLE.items() if st == state and role in t.roles]
