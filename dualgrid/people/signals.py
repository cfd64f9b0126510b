"""What the people app tells other apps, without knowing them."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

# Sent once the transaction commits, with ``grid_id``: a visit was logged in that grid, or a resident's
# tag began or ended there — who is due or overdue for a visit may have changed (the cockpit's map
# keeps a count per grid).
visit_duty_changed = Signal()


def announce_visit_duty_changed(grid_id: int | None) -> None:
    if grid_id:
        transaction.on_commit(lambda: visit_duty_changed.send(sender=None, grid_id=grid_id))
