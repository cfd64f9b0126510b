"""Display helpers of the patrol feed: triage labels, short local times, waiting times."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from dualgrid.triage.rules import KIND_LABELS
from dualgrid.watch import feed
from dualgrid.watch.models import GroupMessage

register = template.Library()


@register.filter
def kind_label(value: str) -> str:
    """The triage's kind in Chinese (求助 / 投诉 / 纠纷 / 安全隐患 / 突发事件 / 舆情苗头); unknown ones as written."""
    return KIND_LABELS.get(value, value)


@register.filter
def category_label(message: GroupMessage) -> str:
    category = feed.category_of(message)
    return str(category) if category is not None else ""


@register.filter
def percent(value: float | None) -> str:
    return f"{round(value * 100)}%" if value else ""


@register.filter
def clock(value: datetime | None) -> str:
    """Local time, as short as it stays clear: 07:32 today, 11-22 20:15 this year, else the full date."""
    if not value:
        return ""
    zone = feed.local_zone()
    local = timezone.localtime(value, zone)
    today = timezone.localtime(timezone.now(), zone).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


@register.filter
def waited(message: GroupMessage) -> str:
    minutes = feed.waiting_minutes(message)
    if minutes < 60:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{rest}分" if rest else f"{hours}小时"
    return f"{hours // 24}天"


@register.filter
def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
