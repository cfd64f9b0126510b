"""Display helpers of the places pages: percentages, bars, sortable column headers."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """85.3% — or a dash when there is nothing to divide by."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def bar_width(value: float | None) -> str:
    """A CSS width for a progress bar, clamped to 0–100 %."""
    return "0%" if value is None else f"{max(0.0, min(100.0, value)):.1f}%"


@register.filter
def reach_level(value: float | None) -> str:
    """good / fair / poor for the colour of a coverage figure."""
    if value is None:
        return "none"
    return "good" if value >= 60 else "fair" if value >= 40 else "poor"


@register.filter
def compliance_level(value: float | None) -> str:
    """一格一群 is meant to be complete: good only from 95 %."""
    if value is None:
        return "none"
    return "good" if value >= 95 else "fair" if value >= 80 else "poor"


@register.filter
def thousands(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


@register.simple_tag(takes_context=True)
def sort_th(context: dict[str, Any], label: str, key: str, numeric: bool = True) -> str:
    """A <th> whose link sorts by ``key``; a second click reverses the order."""
    current = context.get("sort") == key
    descending = bool(context.get("descending"))
    order = "asc" if current and descending else "desc" if current or numeric else "asc"
    query = context.get("sort_query", "")
    href = f"?{query + '&' if query else ''}sort={key}&order={order}"
    arrow = ("▼" if descending else "▲") if current else ""
    return format_html(
        '<th class="{}"{}><a href="{}" class="sort-link">{}<span class="sort-arrow">{}</span></a></th>',
        "num" if numeric else "",
        format_html(' aria-sort="{}"', "descending" if descending else "ascending") if current else "",
        href,
        label,
        arrow,
    )
