"""Display helpers for people pages: masking, ages, visit states."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from dualgrid.lib import idcard, privacy
from dualgrid.people.models import Resident
from dualgrid.people.selectors import DueItem
from dualgrid.people.visit_rules import VisitState, local_day, local_today

register = template.Library()

WEEKLY_LABELS = {VisitState.OVERDUE: "已逾期", VisitState.DUE: "本周待走访", VisitState.DONE: "本周已走访"}
ROLLING_LABELS = {VisitState.OVERDUE: "已逾期", VisitState.DUE: "待走访", VisitState.DONE: "周期内已走访"}


@register.filter
def mask_id(value: str) -> str:
    return idcard.mask_id(value)


@register.filter
def mask_phone(value: str) -> str:
    return privacy.mask_phone(value)


@register.filter
def age(birth: date | None) -> str:
    if birth is None:
        return ""
    today = local_today()
    return str(today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day)))


@register.filter
def ago(moment: datetime | None) -> str:
    """今天 / 昨天 / 3天前 / 从未走访, counted in local days."""
    if moment is None:
        return "从未走访"
    days = (local_today() - local_day(moment)).days
    return "今天" if days <= 0 else "昨天" if days == 1 else f"{days}天前"


@register.filter
def state_label(item: DueItem) -> str:
    labels = WEEKLY_LABELS if item.rule.weekly else ROLLING_LABELS
    return labels[VisitState(item.status.state)]


@register.filter
def home(resident: Resident) -> str:
    """Where the resident lives: their own address, else their household's."""
    if resident.address:
        return resident.address
    return str(resident.household) if resident.household_id and resident.household else ""


@register.filter
def rate_class(rate: float | None) -> str:
    if rate is None:
        return "rate-none"
    return "rate-good" if rate >= 90 else "rate-warn" if rate >= 70 else "rate-bad"
