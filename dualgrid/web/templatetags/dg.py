"""Display helpers: local times, masking, badges."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

from dualgrid.cases.models import Case
from dualgrid.lib import privacy
from dualgrid.web.presenters import Deadline, deadline_of

register = template.Library()
LOCAL = ZoneInfo("Asia/Shanghai")


@register.filter
def dt(value: datetime | None) -> str:
    """2026-11-23 14:05 in Asia/Shanghai, whatever the active time zone."""
    if not value:
        return ""
    return timezone.localtime(value, LOCAL).strftime("%Y-%m-%d %H:%M")


@register.filter
def mask_phone(value: str) -> str:
    return privacy.mask_phone(value)


@register.filter
def mask_name(value: str) -> str:
    return privacy.mask_name(value)


@register.simple_tag
def deadline(case: Case) -> Deadline:
    return deadline_of(case)


@register.inclusion_tag("web/_deadline_badge.html")
def deadline_badge(case: Case, with_due: bool = False) -> dict:
    return {"d": deadline_of(case), "with_due": with_due}
