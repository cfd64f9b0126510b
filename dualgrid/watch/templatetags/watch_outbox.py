"""Template tags of the outbox: the reply drafts on the case page, status badges."""

from __future__ import annotations

from typing import Any

from django import template

from dualgrid.cases.models import Case

from .. import outbox

register = template.Library()

BADGES = {
    "draft": "badge-warning",
    "pending": "badge-info",
    "sent": "badge-normal",
    "failed": "badge-overdue",
    "cancelled": "",
}


@register.simple_tag(takes_context=True)
def case_replies(context: template.Context, case: Case) -> dict[str, Any]:
    """The case's group replies and whether the reader may confirm a draft (the case page already
    checked that the reader sees the case)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    rows = outbox.replies_for_case(case)
    for row in rows:
        row.problem = outbox.unsendable(row.connector)  # type: ignore[attr-defined]
    can_confirm = bool(user is not None and user.is_authenticated and outbox.may_confirm_reply(user))
    return {"rows": rows, "can_confirm": can_confirm and case.status in outbox.REPLY_STATES}


@register.filter
def outbox_badge(status: str) -> str:
    return BADGES.get(status, "")
