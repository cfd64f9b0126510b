#!/usr/bin/env python
"""A scratch database shaped like a city of 10 districts: 10,000 grids and the cockpit's daily rows at
the density of 10,000,000 cases over three years, to time the cockpit's endpoints at that scale
without generating and rolling up 10M cases (hours on the 2-core bench machine).

What is synthetic, and why it stands in for the real thing:
  * places: 1 city → 10 counties → 20 towns each → 25 villages each → 2 grids each (10,000 grids,
    small square boundaries), plus the users leader (county 1), town1 (its first town) and admin.
  * daily rows (``cockpit_dailyfigure``), three years of days, for every slice the endpoints read for
    those users: the whole platform, county 1 and its 20 towns, town 1's 25 villages, their 50 grids,
    with every breakdown (7 channels, 15 top-level, 80 leaf categories a day — saturated: at 10M
    cases a day of a county has every channel and most categories). Counts are drawn around
    9,000 cases a day for the platform, ~900 for a county. A read costs the rows of one place and
    period, so this is what the endpoints touch at 10M; the rows of the other 9 counties only make the
    table (and its index) bigger, which ``--pad`` adds as filler rows of other places.
  * the map: ``cockpit_gridload`` for all 10,000 grids (open cases per grid) and 20,000 open cases of
    which 5,000 overdue in ``cases_case`` (the partial index the map reads).

    .venv/bin/python bench/cockpit_scale.py               # creates dualgrid_cockpit_scale, then
    .venv/bin/python bench/cockpit_figures.py --db dualgrid_cockpit_scale
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import DUALGRID, HOST, PG, bench_env, log, psql  # noqa: E402

DB = "dualgrid_cockpit_scale"
DAYS = 3 * 365


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DB)
    p.add_argument("--pad", type=int, default=20_000_000, help="filler rows of other places")
    args = p.parse_args()
    started = time.perf_counter()
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'", db="postgres"):
        subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-c", f"drop database {args.db}"], check=True)
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-c", f"create database {args.db}"], check=True)
    env = bench_env(args.db)
    subprocess.run([DUALGRID, "migrate", "--noinput", "-v0"], env=env, check=True)
    log(f"migrated in {time.perf_counter() - started:.0f} s")
    os.environ.update({"DATABASE_URL": f"{PG}/{args.db}", "DJANGO_SETTINGS_MODULE": "dualgrid.settings"})
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cur:
        places(cur)
        log(f"places in {time.perf_counter() - started:.0f} s")
        daily_rows(cur, args.pad)
        log(f"daily rows in {time.perf_counter() - started:.0f} s")
        live(cur)
    connection.close()
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-d", args.db, "-c", "VACUUM ANALYZE"], check=True)
    users(env)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def places(cur) -> None:  # type: ignore[no-untyped-def]
    cur.execute(
        "INSERT INTO places_adminunit (code, name, level, boundary) VALUES ('500100000000', '示例市', 1, '')"
    )
    cur.execute(
        """
        INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
        SELECT '5001' || lpad(c::text, 2, '0') || '000000', '区县' || c, 2,
               (SELECT id FROM places_adminunit WHERE code = '500100000000'), ''
        FROM generate_series(1, 10) c;
        INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
        SELECT left(p.code, 6) || lpad(t::text, 3, '0') || '000', p.name || '街道' || t, 3, p.id, ''
        FROM places_adminunit p, generate_series(1, 20) t WHERE p.level = 2;
        INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
        SELECT left(p.code, 9) || lpad(v::text, 3, '0'), p.name || '社区' || v, 4, p.id, ''
        FROM places_adminunit p, generate_series(1, 25) v WHERE p.level = 3;
        INSERT INTO places_grid (code, name, village_id, town_id, county_id, kind, tier, boundary,
                                 households, population, active, updated_at)
        SELECT v.code || lpad(g::text, 3, '0'), v.name || '第' || g || '网格', v.id, t.id, t.parent_id,
               'urban', 'general',
               format('POLYGON ((%1$s %2$s, %3$s %2$s, %3$s %4$s, %1$s %4$s, %1$s %2$s))',
                      105 + (v.id % 100) * 0.01 + g * 0.004, 29 + (v.id / 100) * 0.01,
                      105 + (v.id % 100) * 0.01 + g * 0.004 + 0.004, 29 + (v.id / 100) * 0.01 + 0.008),
               300, 1000, true, now()
        FROM places_adminunit v JOIN places_adminunit t ON t.id = v.parent_id, generate_series(1, 2) g
        WHERE v.level = 4;
        """
    )


def _slice_rows(level: int, unit_sql: str, per_day: int, dims: dict[str, int]) -> str:
    """INSERT … SELECT of one set of places × days × breakdowns, counters drawn around per_day."""
    parts = []
    for dim, keys in dims.items():
        share = 1.0 if dim == "total" else 1.0 / keys
        key = "''" if dim == "total" else "k::text"
        series = "generate_series(1, 1)" if dim == "total" else f"generate_series(1, {keys})"
        received = f"greatest(0, round({per_day * share} * (0.6 + random() * 0.8)))::int"
        parts.append(
            f"""
            INSERT INTO cockpit_dailyfigure (day, level, unit_id, dim, key, received, rejected, dispatched,
                signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked,
                rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum)
            SELECT d, {level}, u, '{dim}', {key}, r, r / 50, r, r, r + r / 15, r - r / 50, (r - r / 50) * 9 / 10,
                   r * 15 / 100, r * 6 / 100, r * 5 / 100, r / 15, r * 85 / 100, r * 7 / 10, r / 10, r / 15,
                   r * 10800, r * 144000
            FROM (SELECT d::date AS d, u, {"k" if dim != "total" else "1 AS k"}, {received} AS r
                  FROM generate_series(current_date - {DAYS - 1}, current_date, interval '1 day') d,
                       ({unit_sql}) units(u), {series} k) x
            """
        )
    return ";".join(parts)


ALL_DIMS = {"total": 1, "channel": 7, "top": 15, "leaf": 80}


def daily_rows(cur, pad: int) -> None:  # type: ignore[no-untyped-def]
    county = "SELECT id FROM places_adminunit WHERE code = '500101000000'"
    towns = "SELECT id FROM places_adminunit WHERE level = 3 AND code LIKE '500101%'"
    town1 = "SELECT id FROM places_adminunit WHERE code = '500101001000'"
    villages = f"SELECT id FROM places_adminunit WHERE parent_id = ({town1})"
    grids = f"SELECT id FROM places_grid WHERE town_id = ({town1})"
    cur.execute(_slice_rows(0, "SELECT 0", 9100, ALL_DIMS))
    cur.execute(_slice_rows(1, county, 910, ALL_DIMS))
    cur.execute(_slice_rows(2, towns, 45, {"total": 1, "channel": 7, "top": 15, "leaf": 40}))
    cur.execute(_slice_rows(3, villages, 2, {"total": 1, "channel": 3, "top": 5, "leaf": 8}))
    cur.execute(_slice_rows(4, grids, 1, {"total": 1, "top": 3}))
    if pad:
        # Filler: rows of places nobody reads here, so the table and its index have a city's size.
        cur.execute(
            f"""
            INSERT INTO cockpit_dailyfigure (day, level, unit_id, dim, key, received, rejected, dispatched,
                signed, resolved, closed, closed_on_time, auto_closed, deferred, deferred_closed, reworked,
                rated, satisfied, basic_satisfied, unsatisfied, sign_seconds_sum, resolve_seconds_sum)
            SELECT current_date - (n % {DAYS})::int, 4, 1000000 + n / {DAYS}, 'top', '1', 1, 0, 1, 1, 1, 1, 1,
                   0, 0, 0, 0, 1, 1, 0, 0, 3600, 36000
            FROM generate_series(0, {pad - 1}) n
            """
        )


def live(cur) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    cur.execute("SELECT id, village_id, town_id, county_id FROM places_grid ORDER BY id")
    grids = cur.fetchall()
    cur.execute(
        "INSERT INTO cockpit_gridload (grid_id, open) SELECT id, (random() * 12)::int FROM places_grid"
    )
    from django.utils import timezone

    from dualgrid.cases.models import Case

    now = timezone.now()
    cases = []
    for n in range(20_000):
        grid_id, village_id, town_id, county_id = rng.choice(grids)
        cases.append(
            Case(
                title="示例",
                description="示例",
                status="in_progress",
                grid_id=grid_id,
                village_id=village_id,
                town_id=town_id,
                county_id=county_id,
                created_at=now,
                number=f"S{n:08d}",
                deadline_state="overdue" if n % 4 == 0 else "normal",
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)


def users(env: dict[str, str]) -> None:
    script = (
        "from dualgrid.accounts.models import User, Role\n"
        "from dualgrid.places.models import AdminUnit\n"
        "county = AdminUnit.objects.get(code='500101000000')\n"
        "town = AdminUnit.objects.get(code='500101001000')\n"
        "User.objects.create_user('leader', password='demo1234', role=Role.LEADER, unit=county)\n"
        "User.objects.create_user('town1', password='demo1234', role=Role.DISPATCHER, unit=town)\n"
        "User.objects.create_user('admin', password='demo1234', role=Role.ADMIN)\n"
    )
    subprocess.run([DUALGRID, "shell", "-c", script], env=env, check=True)


if __name__ == "__main__":
    raise SystemExit(main())
