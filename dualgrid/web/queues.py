"""The dispatcher's work queue split into tabs; each tab is its own condition over ``case_list``
(stacking it on ``dispatcher_queue``'s OR made the planner misjudge the row count)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from dualgrid.accounts.models import User
from dualgrid.cases import selectors
from dualgrid.cases.models import Case, DeadlineState, Status

LATE = [DeadlineState.WARNING, DeadlineState.OVERDUE]
OPEN = [Status.NEW, Status.PENDING_DISPATCH, Status.PENDING_SIGN, Status.IN_PROGRESS, Status.PENDING_VERIFY]


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    condition: Q
    source: Callable[..., QuerySet[Case]]
    order: tuple[str, ...] = ("created_at", "id")


TABS = [
    Tab("new", "待受理", Q(status=Status.NEW), selectors.dispatcher_queue),
    Tab("dispatch", "待派单", Q(status=Status.PENDING_DISPATCH), selectors.dispatcher_queue),
    Tab("verify", "待核查", Q(status=Status.PENDING_VERIFY), selectors.dispatcher_queue),
    Tab(
        "extension",
        "延期审批",
        Q(status=Status.IN_PROGRESS, extension_pending=True),
        selectors.dispatcher_queue,
    ),
    Tab(
        "deadline",
        "即将超期·已超期",
        Q(status__in=[Status.PENDING_SIGN, Status.IN_PROGRESS], deadline_state__in=LATE),
        selectors.case_list,
        order=("-deadline_state", "deadline_check_at", "id"),
    ),
]
TAB_BY_KEY = {tab.key: tab for tab in TABS}


@dataclass(frozen=True)
class TabCount:
    key: str
    label: str
    count: int


def tab_counts(user: User) -> list[TabCount]:
    """All tab counts in one query over the user's scope (each tab's condition lies inside its source)."""
    totals = (
        selectors.case_list(user)
        .filter(status__in=OPEN)  # every tab lies among the open cases: count those, not the archive
        .order_by()
        .aggregate(**{tab.key: Count("pk", filter=tab.condition) for tab in TABS})
    )
    return [TabCount(tab.key, tab.label, totals[tab.key] or 0) for tab in TABS]


def tab_cases(user: User, key: str) -> QuerySet[Case]:
    tab = TAB_BY_KEY.get(key, TABS[0])
    return tab.source(user).filter(tab.condition).order_by(*tab.order)
