"""Turn cases and their events into what a page shows: timeline rows, deadline badges, due texts.

Staff see the full timeline. Residents see a public one: no staff names (role labels only), no
internal steps (phone reveals, returns, time-limit alarms) and notes only where they are written
for the resident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from dualgrid.cases import deadlines
from dualgrid.cases.models import Case, CaseAttachment, DeadlineState, Status
from dualgrid.cases.workflow import ACTION_LABELS, Action

PUBLIC_ACTIONS = frozenset(
    {
        "create",
        "auto_dispatch",
        Action.ACCEPT,
        Action.REJECT,
        Action.DISPATCH,
        Action.SIGN,
        Action.APPROVE_EXTENSION,
        Action.RESOLVE,
        Action.VERIFY,
        Action.SEND_BACK,
        Action.RATE,
        Action.CLOSE,
        Action.AUTO_CLOSE,
    }
)
# Notes written for the resident (or by them); other notes are internal working remarks.
PUBLIC_NOTES = frozenset(
    {"create", "auto_dispatch", Action.REJECT, Action.RESOLVE, Action.RATE, Action.AUTO_CLOSE}
)


@dataclass
class TimelineRow:
    time: datetime
    actor: str
    action: str
    label: str
    from_status: str
    to_status: str
    note: str
    photos: list[CaseAttachment] = field(default_factory=list)


def _status_label(value: str) -> str:
    return Status(value).label if value in Status.values else value


def _detail_note(action: str, note: str, data: dict) -> str:
    extras = []
    if data.get("to"):
        extras.append(f"派至{data['to']}")
    if data.get("from"):
        extras.append(f"原承办：{data['from']}")
    if data.get("hours"):
        extras.append(f"{data['hours']}小时")
    if data.get("rating"):
        extras.append(f"评价：{data['rating']}")
    if data.get("category"):
        extras.append(f"分类改为{data['category']}")
    if data.get("urgency"):
        extras.append(f"紧急程度改为{data['urgency']}")
    return "；".join([*extras, note] if note else extras)


def _events(case: Case):  # type: ignore[no-untyped-def]
    return case.events.select_related("actor").prefetch_related("attachments").order_by("created_at", "id")


def staff_timeline(case: Case) -> list[TimelineRow]:
    return [
        TimelineRow(
            time=event.created_at,
            actor=event.actor_label,
            action=event.action,
            label=ACTION_LABELS.get(event.action, event.action),
            from_status=_status_label(event.from_status) if event.from_status else "",
            to_status=_status_label(event.to_status) if event.to_status else "",
            note=_detail_note(event.action, event.note, event.data or {}),
            photos=list(event.attachments.all()),
        )
        for event in _events(case)
    ]


def public_timeline(case: Case) -> list[TimelineRow]:
    rows = []
    for event in _events(case):
        if event.action not in PUBLIC_ACTIONS:
            continue
        actor = event.actor.get_role_display() if event.actor is not None else event.actor_label
        if event.action == Action.DISPATCH:
            note = f"派至{event.data['to']}" if event.data.get("to") else ""
        elif event.action == Action.RATE:
            note = _detail_note(event.action, event.note, {"rating": (event.data or {}).get("rating")})
        else:
            note = event.note if event.action in PUBLIC_NOTES else ""
        rows.append(
            TimelineRow(
                time=event.created_at,
                actor=actor,
                action=event.action,
                label=ACTION_LABELS.get(event.action, event.action),
                from_status="",
                to_status=_status_label(event.to_status) if event.to_status else "",
                note=note,
                photos=list(event.attachments.all()),
            )
        )
    return rows


def handling_unit(case: Case) -> str:
    if case.assigned_grid_id and case.assigned_grid is not None:
        return case.assigned_grid.name
    if case.assigned_department_id and case.assigned_department is not None:
        return case.assigned_department.name
    return ""


@dataclass(frozen=True)
class Deadline:
    state: str
    label: str
    stage: str
    due_at: datetime | None
    remaining: str


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)}分钟"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}小时"
    days, rest = divmod(hours, 24)
    return f"{days}天{rest}小时" if rest else f"{days}天"


def deadline_of(case: Case, now: datetime | None = None) -> Deadline:
    """The running time limit computed now, so a page never lags behind the background sweep."""
    now = now or timezone.now()
    state, _ = deadlines.deadline_status(case, now)
    window = deadlines.running_window(case)
    if window is None:
        return Deadline(state=DeadlineState.NONE, label="", stage="", due_at=None, remaining="")
    due = window[1]
    stage = "签收" if case.status == Status.PENDING_SIGN else "办结"
    remaining = f"已超期 {_duration(now - due)}" if now >= due else f"剩余 {_duration(due - now)}"
    return Deadline(
        state=state, label=DeadlineState(state).label, stage=stage, due_at=due, remaining=remaining
    )
