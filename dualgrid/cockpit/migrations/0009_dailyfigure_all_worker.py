"""The whole platform's worker rows of the daily figures, read index-only (PostgreSQL only).

A long period at the whole platform's level reads its leftover days of worker rows — one per grid worker
and day: 47,155 rows for 6 days of the 10,000-grid city — and ranks the workers. Through the slice index
that is a heap fetch per row (50–160 ms warm); this covering partial index answers it index-only
(13 ms). SQLite has no INCLUDE and needs none at its size, so nothing is created there.
"""

from django.db import migrations

NAME = "dailyfigure_all_worker"
# The counters as of this migration (models.COUNTER_FIELDS; a migration keeps its own copy).
COUNTERS = (
    "received, rejected, dispatched, signed, resolved, closed, closed_on_time, auto_closed, deferred, "
    "deferred_closed, reworked, rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, "
    "resolve_seconds_sum"
)


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON cockpit_dailyfigure (day, key) "
        f"INCLUDE (unit_id, {COUNTERS}) WHERE level = 0 AND dim = 'worker'"
    )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0008_month_year_figures")]
    operations = [migrations.RunPython(create, drop)]
