"""The workflow configuration (categories, routing rules, time limits, holidays) as an in-process snapshot.

Every case creation needs all four; reading them once per process and re-reading at most every
``DUALGRID["CONFIG_CACHE_SECONDS"]`` takes four queries off every request. An edit in the admin
invalidates the snapshot of the process that served it at once, other processes within that many
seconds. Tests clear it around each test (see dualgrid/conftest.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from .models import Category, Holiday, RoutingRule, TimeLimit


@dataclass
class Snapshot:
    categories: dict[str, Category] = field(default_factory=dict)  # active ones, by code, parents linked
    rules_by_category: dict[int, list[RoutingRule]] = field(default_factory=dict)  # active rules
    limits: list[TimeLimit] = field(default_factory=list)
    holidays: dict[date, bool] = field(default_factory=dict)
    loaded_at: float = 0.0


_lock = threading.Lock()
_current: Snapshot | None = None


def _load() -> Snapshot:
    snap = Snapshot(loaded_at=time.monotonic())
    by_id = {c.pk: c for c in Category.objects.all()}
    for category in by_id.values():
        # Link parents from the same read so walking up the tree costs no query.
        category.parent = by_id.get(category.parent_id) if category.parent_id else None  # type: ignore[assignment]
        if category.active:
            snap.categories[category.code] = category
    for rule in RoutingRule.objects.filter(active=True).select_related("department"):
        snap.rules_by_category.setdefault(rule.category_id, []).append(rule)
    snap.limits = list(TimeLimit.objects.all())
    snap.holidays = dict(Holiday.objects.values_list("date", "is_workday"))
    return snap


def snapshot() -> Snapshot:
    global _current
    ttl = float(settings.DUALGRID.get("CONFIG_CACHE_SECONDS", 30))
    snap = _current
    if snap is None or time.monotonic() - snap.loaded_at > ttl:
        with _lock:
            snap = _current
            if snap is None or time.monotonic() - snap.loaded_at > ttl:
                snap = _current = _load()
    return snap


def invalidate() -> None:
    global _current
    with _lock:
        _current = None


def category_by_code(code: str) -> Category | None:
    return snapshot().categories.get(code)
