"""The map's overdue-visit counts, kept per grid (``GridVisitLoad``) instead of computed per request.

``overdue_visits_by_grid`` (the people app's own rule, the same as the due list) costs ~0.8 s for a
county of 21,600 tagged residents and ~6 s for a city of 190,000 on the bench: fine for the worker every
few minutes, not for every look at the map. So:

* ``refresh(grid_ids)`` recomputes and stores the given grids (all of them with ``None``, in chunks);
* the worker calls ``refresh_due`` each round: every grid when the last full pass is older than
  ``DUALGRID["COCKPIT_VISIT_REFRESH_MINUTES"]`` or was made on an earlier local day;
* logging a visit, adding or ending a tag recomputes that one grid after its transaction commits
  (``people.signals.visit_duty_changed``);
* ``overdue_by_grid`` reads the stored rows and computes live only the grids that have none yet (a new
  grid, a fresh install before the worker's first pass).

A change that bypasses those services (an Excel import of tags or visits) shows on the map at the
worker's next full pass, at most ``COCKPIT_VISIT_REFRESH_MINUTES`` later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from dualgrid.people.selectors import overdue_visits_by_grid
from dualgrid.places.models import Grid

from .models import GridVisitLoad

CHUNK = 500


def refresh(grid_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Recompute and store the overdue-visit count of these grids (every active grid with None)."""
    now = now or timezone.now()
    ids = (
        sorted(grid_ids)
        if grid_ids is not None
        else list(Grid.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    )
    today = timezone.localtime(now).date()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        counts = overdue_visits_by_grid(chunk, today)
        rows = [GridVisitLoad(grid_id=g, overdue=counts.get(g, 0), computed_at=now) for g in chunk]
        with transaction.atomic():
            GridVisitLoad.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["grid_id"],
                update_fields=["overdue", "computed_at"],
            )
    return len(ids)


def refresh_due(now: datetime | None = None) -> int:
    """The worker's step: a full pass when the oldest row is older than the refresh interval or from an
    earlier local day (or there is none). Returns how many grids were recomputed."""
    now = now or timezone.now()
    oldest = GridVisitLoad.objects.aggregate(at=Min("computed_at"))["at"]
    interval = timedelta(minutes=int(settings.DUALGRID["COCKPIT_VISIT_REFRESH_MINUTES"]))
    if (
        oldest is not None
        and now - oldest < interval
        and timezone.localtime(oldest).date() == timezone.localtime(now).date()
        and GridVisitLoad.objects.count() >= Grid.objects.filter(active=True).count()
    ):
        return 0
    return refresh(now=now)


def on_visit_duty_changed(sender: Any, grid_id: int, **kwargs: Any) -> None:
    """people.signals.visit_duty_changed (connected in CockpitConfig.ready): recompute that grid."""
    refresh([grid_id])


def overdue_by_grid(grids: QuerySet[Grid, Any]) -> dict[int, int]:
    """grid id → overdue residents: the stored rows, and a live count for grids without one."""
    stored = dict(
        GridVisitLoad.objects.filter(grid_id__in=grids.values("id")).values_list("grid_id", "overdue")
    )
    missing = [pk for pk in grids.values_list("id", flat=True) if pk not in stored]
    if missing:
        stored.update(overdue_visits_by_grid(missing))
    return stored
