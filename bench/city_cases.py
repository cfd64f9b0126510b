#!/usr/bin/env python
"""A city-sized PostgreSQL database for the cockpit (issue #5): 10,000 grids, 10,000,000 real cases with
their whole timelines (CaseEvents), key-population residents with tags and visits, urgent group
messages — then the real rollup over all of it. Fast: everything is COPY or INSERT … SELECT, never
the API or the services.

Steps (run all, or some with ``--steps``; each says what it did and how long it took):

  base     create the database (``--db``), migrate, load the demo district 潼南区 (443 grids with real
           Voronoi boundaries, departments, routing rules, users, 20k residents, groups; no cases).
  places   9 more districts around it, square grid boundaries: city → 9 counties × 20 towns × 27
           villages → 1–2 grids each, so the city has exactly ``--grids`` non-micro grids (default
           10,000); a grid worker per new grid (``wg<code>``, linked to the grid) and two users of the
           first new county: ``cleader`` (leader of the county) and ``ctown`` (dispatcher of its first
           town), password demo1234.
  cases    ``--n`` cases (default 10,000,000) over ``--years`` years with every event, by
           ``bench/bulk_cases.py``'s generator (same life cycles, routing, limits, texts), spread over
           all grids by population. ``--jobs`` worker processes each generate a contiguous block of ids
           and a contiguous part of the time span and COPY it in per-batch transactions; the secondary
           indexes of cases_case and cases_caseevent are dropped first and rebuilt at the end (their
           DDL is kept in bench/out/city_cases_indexes.sql until then), FK triggers off while loading.
  people   ``--residents`` key-population residents per new grid (default 20) with one visit-ruled tag
           each (weekly 关爱对象 or 30-day 特殊人群/重点青少年), and a year of visits: most are visited
           on time, ``--neglected`` of them (default 12 %) stopped being visited 3–8 weeks ago (overdue now).
  messages ``--urgent`` urgent group messages still flagged in the patrol feed (default 3,000, in random
           grids), plus ordinary handled ones around them (10 per urgent one).
  rebuild  ``dualgrid cockpit_rebuild`` (the real rollup over every event), timed; then the rolled-up
           totals are compared with the case table (received = cases, 不予受理 = void, 结案 = closed,
           the grids' open tallies = open cases with a grid). At 10M cases and 10,000 grids that is
           ≈ 3 min and ≈ 6.5M daily rows per month (≈ 2 h, ≈ 55 GB for three years on 2 cores):
           ``--windows 2026-10-01:2026-11-24,2025-11-01:2025-11-30`` rolls up only those days (each
           ``cockpit_rebuild --from --to``), compares each window's totals with the events of its
           days, and sets the grids' open tallies from the case table (what the full recount gives).

    .venv/bin/python bench/city_cases.py                      # everything into dualgrid_city10m
    .venv/bin/python bench/city_cases.py --steps rebuild      # again, one step
    .venv/bin/python bench/cockpit_figures.py --db dualgrid_city10m --leader cleader --town ctown

Meant for a scratch database: the cases step reserves the ids by moving the sequence, so nothing else
may insert cases meanwhile, and it is not one transaction (a failure leaves the rows written so far and
the indexes dropped: re-create them from the saved DDL or drop the database).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import DUALGRID, HOST, OUT, PYTHON, bench_env, log, psql  # noqa: E402

DB = "dualgrid_city10m"
STEPS = ("base", "places", "cases", "people", "messages", "rebuild")
NEW_COUNTIES, TOWNS, VILLAGES = 9, 20, 27
PASSWORD = "demo1234"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DB)
    p.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    p.add_argument("--grids", type=int, default=10_000, help="non-micro grids in the whole city")
    p.add_argument("--n", type=int, default=10_000_000, help="cases")
    p.add_argument("--years", type=float, default=3.0)
    p.add_argument("--jobs", type=int, default=2, help="generator processes for the cases")
    p.add_argument("--batch", type=int, default=25_000, help="cases per COPY transaction")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--residents", type=int, default=20, help="key-population residents per new grid")
    p.add_argument("--neglected", type=float, default=0.12, help="share of them no longer visited")
    p.add_argument("--urgent", type=int, default=3_000, help="urgent group messages still flagged")
    p.add_argument("--windows", default="", help="rebuild only these day ranges: FROM:TO[,FROM:TO…]")
    # internal: one generator process of the cases step
    p.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)
    p.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--lo", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--hi", type=float, default=1.0, help=argparse.SUPPRESS)
    return p.parse_args()


def setup_django(db: str) -> None:
    os.environ.update(bench_env(db))
    import django

    django.setup()


def main() -> int:
    args = parse_args()
    if args.worker >= 0:
        return worker(args)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"unknown steps: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    if "base" in steps:
        base(args)
    setup_django(args.db)
    for step in ("places", "cases", "people", "messages", "rebuild"):
        if step in steps:
            t = time.perf_counter()
            globals()[f"step_{step}"](args)
            log(f"step {step}: {time.perf_counter() - t:,.1f} s")
    log(f"all done in {time.perf_counter() - started:,.0f} s; database size {db_size(args.db)}")
    return 0


def db_size(db: str) -> str:
    return psql(f"SELECT pg_size_pretty(pg_database_size('{db}'))", db=db)


# --- base: the demo district --------------------------------------------------------------------------


def base(args: argparse.Namespace) -> None:
    t = time.perf_counter()
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'", db="postgres"):
        subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-c", f"create database {args.db}"], check=True)
    env = bench_env(args.db)
    subprocess.run([DUALGRID, "migrate", "--noinput", "-v0"], env=env, check=True)
    if psql("SELECT count(*) FROM places_grid", db=args.db) == "0":
        subprocess.run([DUALGRID, "demo", "--cases", "0", "--password", PASSWORD], env=env, check=True)
    log(f"step base: {time.perf_counter() - t:,.1f} s")


# --- places: 9 more districts -------------------------------------------------------------------------


def step_places(args: argparse.Namespace) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM places_adminunit WHERE code = '500101000000'")
        if cur.fetchone()[0]:
            log("places: already there")
            return
        cur.execute("SELECT count(*) FROM places_grid WHERE tier <> 'micro'")
        need = args.grids - cur.fetchone()[0]
        villages = NEW_COUNTIES * TOWNS * VILLAGES
        if not villages <= need <= 2 * villages:
            raise SystemExit(f"places: {need} new grids do not fit {villages} villages of 1-2 grids")
        doubles = need - villages  # villages with two grids (the first ones by code), the rest one
        cur.execute("SELECT id FROM places_adminunit WHERE level = 1")
        city = cur.fetchone()[0]
        # Counties 500101..500109 on a 3×3 layout east of the demo district; each 0.5° square holds 5×4
        # towns of 0.1°, each town 6×5 village cells of 1/60° × 0.02°, split into two grids.
        cur.execute(
            """
            INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
            SELECT '5001' || lpad(c::text, 2, '0') || '000000', '示范' || c || '区', 2, %s, ''
            FROM generate_series(1, %s) c;
            INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
            SELECT left(p.code, 6) || lpad(t::text, 3, '0') || '000', p.name || '第' || t || '街道', 3, p.id, ''
            FROM places_adminunit p, generate_series(1, %s) t
            WHERE p.level = 2 AND p.code BETWEEN '500101000000' AND '500109999999';
            INSERT INTO places_adminunit (code, name, level, parent_id, boundary)
            SELECT left(p.code, 9) || lpad(v::text, 3, '0'), p.name || v || '社区', 4, p.id, ''
            FROM places_adminunit p, generate_series(1, %s) v
            WHERE p.level = 3 AND p.code BETWEEN '500101000000' AND '500109999999';
            """,
            [city, NEW_COUNTIES, TOWNS, VILLAGES],
        )
        cur.execute(
            """
            WITH v AS (
                SELECT v.id, v.code, v.name, t.id AS town_id, t.parent_id AS county_id,
                       substr(v.code, 5, 2)::int AS c, substr(v.code, 7, 3)::int AS t,
                       substr(v.code, 10, 3)::int AS n, row_number() OVER (ORDER BY v.code) AS rn
                FROM places_adminunit v JOIN places_adminunit t ON t.id = v.parent_id
                WHERE v.level = 4 AND v.code BETWEEN '500101000000' AND '500109999999'
            ), cell AS (
                SELECT v.*, 106.2 + ((c - 1) %% 3) * 0.5 + ((t - 1) %% 5) * 0.1 + ((n - 1) %% 6) * (0.1 / 6) AS x0,
                       29.0 + ((c - 1) / 3) * 0.5 + ((t - 1) / 5) * 0.1 + ((n - 1) / 6) * 0.02 AS y0,
                       CASE WHEN rn <= %s THEN 2 ELSE 1 END AS parts
                FROM v
            )
            INSERT INTO places_grid (code, name, village_id, town_id, county_id, kind, tier, boundary,
                                     households, population, active, updated_at)
            SELECT code || lpad(g::text, 3, '0'), name || '第' || g || '网格', id, town_id, county_id,
                   'urban', 'general',
                   format('POLYGON ((%%1$s %%2$s, %%3$s %%2$s, %%3$s %%4$s, %%1$s %%4$s, %%1$s %%2$s))',
                          round((x0 + (g - 1) * (0.1 / 6) / parts)::numeric, 6), round(y0::numeric, 6),
                          round((x0 + g * (0.1 / 6) / parts)::numeric, 6), round((y0 + 0.02)::numeric, 6)),
                   300 + (random() * 200)::int, 600 + (random() * 800)::int, true, now()
            FROM cell, generate_series(1, parts) g
            """,
            [doubles],
        )
        log(f"places: {cur.rowcount:,} new grids")
        # A grid worker per new grid, and the two users the bench logs in as.
        password = make_password(PASSWORD)
        cur.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                is_staff, is_active, date_joined, role, display_name, phone)
            SELECT '!', false, 'wg' || g.code, '', '', '', false, true, now(), 'gridworker',
                   '网格员' || right(g.code, 6), ''
            FROM places_grid g JOIN places_adminunit c ON c.id = g.county_id
            WHERE c.code BETWEEN '500101000000' AND '500109999999';
            INSERT INTO accounts_user_grids (user_id, grid_id)
            SELECT u.id, g.id FROM places_grid g JOIN accounts_user u ON u.username = 'wg' || g.code
            JOIN places_adminunit c ON c.id = g.county_id
            WHERE c.code BETWEEN '500101000000' AND '500109999999';
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                is_staff, is_active, date_joined, role, display_name, phone, unit_id)
            SELECT %s, false, 'cleader', '', '', '', false, true, now(), 'leader', '示范1区领导', '', id
            FROM places_adminunit WHERE code = '500101000000'
            UNION ALL
            SELECT %s, false, 'ctown', '', '', '', false, true, now(), 'dispatcher', '示范1区第1街道平安办', '', id
            FROM places_adminunit WHERE code = '500101001000';
            """,
            [password, password],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE places_adminunit; ANALYZE places_grid; ANALYZE accounts_user")
        cur.execute(
            "SELECT count(*) FILTER (WHERE tier <> 'micro'), count(*), count(DISTINCT county_id) FROM places_grid"
        )
        log("places: {} non-micro grids ({} with micro), {} counties".format(*cur.fetchone()))


# --- cases ----------------------------------------------------------------------------------------------


def make_generator(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    import bulk_cases

    from dualgrid.places.models import AdminUnit, UnitLevel

    towns = dict(AdminUnit.objects.filter(level=UnitLevel.TOWN).values_list("id", "name"))

    class CityGenerator(bulk_cases.Generator):
        def place_name(self, grid) -> str:  # type: ignore[no-untyped-def]
            # Pool the report texts by town: 186 towns × 80 categories, not 5,000 villages.
            return towns[grid.town_id]

    gen_args = argparse.Namespace(years=args.years, events="all", batch=args.batch, seed=args.seed)
    return CityGenerator(gen_args)


def step_cases(args: argparse.Namespace) -> None:
    import bulk_cases
    from django.db import connection

    connection.ensure_connection()
    pg = connection.connection
    last = bulk_cases.reserve_case_ids(pg, args.n)
    with pg.cursor() as cur:
        dropped: list[tuple[str, str]] = []
        for table in ("cases_case", "cases_caseevent"):
            cur.execute(bulk_cases.SECONDARY_INDEXES, [table])
            dropped.extend(cur.fetchall())
        OUT.mkdir(parents=True, exist_ok=True)
        saved = OUT / "city_cases_indexes.sql"
        saved.write_text("".join(f"{ddl};\n" for _, ddl in dropped))
        for name, _ in dropped:
            cur.execute(f"DROP INDEX {name}")
    pg.commit()
    first = last - args.n + 1
    log(f"cases: ids {first:,}..{last:,}; dropped {len(dropped)} secondary indexes (DDL in {saved})")
    t = time.perf_counter()
    per = -(-args.n // args.jobs)
    procs = []
    for k in range(args.jobs):
        count = min(per, args.n - k * per)
        cmd = [
            PYTHON, __file__, "--db", args.db, "--worker", str(k), "--first", str(first + k * per),
            "--count", str(count), "--lo", str(k / args.jobs), "--hi", str((k + 1) / args.jobs),
            "--years", str(args.years), "--batch", str(args.batch), "--seed", str(args.seed * 100 + k),
        ]  # fmt: skip
        procs.append(subprocess.Popen(cmd))
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"cases: a generator failed ({codes}); indexes NOT rebuilt, see {saved}")
    load_s = time.perf_counter() - t
    log(
        f"cases: {args.n:,} loaded by {args.jobs} processes in {load_s:,.0f} s ({args.n / load_s:,.0f} cases/s)"
    )
    t = time.perf_counter()
    with pg.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        for name, ddl in dropped:
            t1 = time.perf_counter()
            cur.execute(ddl)
            pg.commit()
            log(f"  {name}: {time.perf_counter() - t1:.0f} s")
    log(f"cases: rebuilt {len(dropped)} indexes in {time.perf_counter() - t:,.0f} s")
    saved.unlink()
    t = time.perf_counter()
    with pg.cursor() as cur:
        cur.execute("ANALYZE cases_case")
        cur.execute("ANALYZE cases_caseevent")
    pg.commit()
    log(f"cases: ANALYZE in {time.perf_counter() - t:.0f} s")
    bulk_cases.summarize()


def worker(args: argparse.Namespace) -> int:
    """One generator process: cases [first, first + count) created in the (lo, hi) part of the span."""
    setup_django(args.db)
    from django.db import connection
    from psycopg.copy import QueuedLibpqWriter

    gen = make_generator(args)
    if not gen.ready:
        return 2
    times = gen.created_times(args.count, args.lo, args.hi)
    connection.ensure_connection()
    pg = connection.connection
    cur = pg.cursor()
    cur.execute("SET synchronous_commit = off")
    cur.execute("SET session_replication_role = replica")  # ids come from the database: no FK checks
    case_copy = f"COPY cases_case ({', '.join(gen.case_columns)}) FROM STDIN"
    event_copy = f"COPY cases_caseevent ({', '.join(gen.event_columns)}) FROM STDIN"
    n_events = 0
    started = time.perf_counter()
    for b in range(0, args.count, args.batch):
        t = time.perf_counter()
        cases, events = [], []
        for i in range(b, min(b + args.batch, args.count)):
            c, evs = gen.case(args.first + i, times[i])
            cases.append(gen.case_row(c))
            events.extend(gen.event_row(e) for e in evs)
        t_gen = time.perf_counter() - t
        cur.execute("BEGIN")
        with cur.copy(case_copy, writer=QueuedLibpqWriter(cur)) as cp:
            for row in cases:
                cp.write_row(row)
        with cur.copy(event_copy, writer=QueuedLibpqWriter(cur)) as cp:
            for row in events:
                cp.write_row(row)
        cur.execute("COMMIT")
        n_events += len(events)
        done = min(b + args.batch, args.count)
        el = time.perf_counter() - started
        if (b // args.batch) % 4 == 0 or done == args.count:
            print(
                f"  [{args.worker}] {done:>9,}/{args.count:,} cases, {n_events:>10,} events "
                f"(batch: generate {t_gen:.1f} s, copy {time.perf_counter() - t - t_gen:.1f} s; "
                f"{done / el:,.0f} cases/s; eta {(args.count - done) / (done / el) / 60:.0f} min)",
                flush=True,
            )
    cur.close()
    return 0


# --- people: key-population residents, tags, visits ------------------------------------------------------


def step_people(args: argparse.Namespace) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM people_resident r JOIN places_grid g ON g.id = r.grid_id "
            "JOIN places_adminunit c ON c.id = g.county_id WHERE c.code = '500101000000'"
        )
        if cur.fetchone()[0]:
            log("people: already there")
            return
        new_grids = (
            "SELECT g.id, u.id AS worker FROM places_grid g JOIN places_adminunit c ON c.id = g.county_id "
            "JOIN accounts_user u ON u.username = 'wg' || g.code "
            "WHERE c.code BETWEEN '500101000000' AND '500109999999'"
        )
        cur.execute(
            f"""
            CREATE TEMP TABLE kp ON COMMIT DROP AS
            SELECT g.id AS grid_id, g.worker, k,
                   random() < %s AS neglected, random() AS r
            FROM ({new_grids}) g, generate_series(1, %s) k
            """,
            [args.neglected, args.residents],
        )
        cur.execute(
            """
            ALTER TABLE kp ADD COLUMN resident_id bigint;
            WITH ins AS (
                INSERT INTO people_resident (grid_id, name, gender, id_number, id_number_hash, phone,
                    phone_hash, ethnicity, address, notes, created_at)
                SELECT grid_id, '重点人员' || grid_id || '-' || k, CASE WHEN k %% 2 = 0 THEN 'F' ELSE 'M' END,
                       '', '', '', '', '汉族', '网格' || grid_id || '号楼' || k || '号', '', now()
                FROM kp ORDER BY grid_id, k
                RETURNING id, grid_id, name
            )
            UPDATE kp SET resident_id = ins.id FROM ins
            WHERE ins.grid_id = kp.grid_id AND ins.name = '重点人员' || kp.grid_id || '-' || kp.k
            """,
            [],
        )
        # Tag: 60 % weekly (关爱对象 1-9), 40 % every 30 days (特殊人群 / 重点青少年 10-20); since 1-3 years ago.
        cur.execute(
            """
            ALTER TABLE kp ADD COLUMN tag_id bigint, ADD COLUMN period int, ADD COLUMN since date;
            UPDATE kp SET tag_id = t.id, period = t.visit_every_days,
                          since = current_date - (365 + (kp.r * 730)::int)
            FROM people_tag t
            WHERE t.id = (SELECT id FROM people_tag WHERE visit_every_days = CASE WHEN kp.r < 0.6 THEN 7 ELSE 30 END
                          ORDER BY id OFFSET (kp.k %% CASE WHEN kp.r < 0.6 THEN 9 ELSE 11 END) LIMIT 1);
            INSERT INTO people_residenttag (resident_id, tag_id, level, since, note, ended_on, end_reason)
            SELECT resident_id, tag_id, 'normal', since, '', NULL, '' FROM kp
            """,
            [],
        )
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE neglected), count(*) FILTER (WHERE period = 7) FROM kp"
        )
        n, neglected, weekly = cur.fetchone()
        # Visits over the last year at the tag's period (± a day or two), by the grid's worker; the
        # neglected stopped 3-8 weeks ago.
        cur.execute(
            """
            INSERT INTO people_visit (resident_id, grid_id, visitor_id, visited_at, kind, found, photo, created_at)
            SELECT resident_id, grid_id, worker, v.at, 'home', '走访正常，无异常情况', '', v.at
            FROM kp, LATERAL (
                SELECT (date_trunc('day', now())
                        - (i * period + (r * 7919)::int %% period / 2 + (random() * 2)::int) * interval '1 day'
                        + interval '1 hour' * (1 + random() * 9)) AS at
                FROM generate_series(CASE WHEN neglected THEN (21 + (r * 1000)::int %% 35) / period + 1 ELSE 0 END,
                                     365 / period) i
            ) v
            WHERE v.at < now()
            """,
            [],
        )
        visits = cur.rowcount
    with connection.cursor() as cur:
        cur.execute("ANALYZE people_resident; ANALYZE people_residenttag; ANALYZE people_visit")
    log(
        f"people: {n:,} key-population residents ({weekly:,} weekly), {neglected:,} neglected; {visits:,} visits"
    )


# --- messages: urgent ones still in the patrol feed ----------------------------------------------------


def step_messages(args: argparse.Namespace) -> None:
    from django.db import connection, transaction

    from dualgrid.watch.models import GroupMessage

    cols = {f.column: f for f in GroupMessage._meta.concrete_fields if f.column != "id"}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM watch_groupmessage WHERE external_id LIKE 'city-%%'")
        if cur.fetchone()[0]:
            log("messages: already there")
            return
        cur.execute("SELECT connector_id FROM watch_groupmessage LIMIT 1")
        row = cur.fetchone()
        if row is None:
            raise SystemExit("messages: no connector in the demo data")
        connector = row[0]
        cur.execute("SELECT state, urgency, count(*) FROM watch_groupmessage GROUP BY 1, 2")
        log(f"messages: demo's states {cur.fetchall()}")
        total = args.urgent * 11
        # Every column from the model: its default where it has one, overridden below.
        values = {}
        for column, f in cols.items():
            if f.has_default():
                d = f.get_db_prep_save(f.get_default(), connection)
                values[column] = cur.mogrify("%s", [d])
            elif f.null:
                values[column] = "NULL"
            elif f.get_internal_type() in ("CharField", "TextField") or type(f).__name__.startswith(
                "Encrypted"
            ):
                values[column] = "''"
        values.update(
            {
                "connector_id": str(connector),
                "external_id": "'city-' || n",
                "external_group_id": "'city-group-' || (n % 5000)",
                "grid_id": "g.id",
                "sender_name": "'群成员' || (n % 97)",
                "text": f"CASE WHEN n <= {args.urgent} THEN '紧急！小区门口有人打架，有人受伤，请快来' "
                "ELSE '今天停水通知收到了吗' END",
                "sent_at": "now() - (n % 4320) * interval '1 minute'",
                "received_at": "now() - (n % 4320) * interval '1 minute'",
                "actionable": f"n <= {args.urgent}",
                "state": f"CASE WHEN n <= {args.urgent} THEN 'flagged' ELSE 'chatter' END",
                "urgency": f"CASE WHEN n <= {args.urgent} THEN 'urgent' ELSE 'normal' END",
            }
        )
        missing = [c for c in cols if c not in values]
        if missing:
            raise SystemExit(f"messages: no value for {missing}")
        names = list(values)
        sql = (
            "WITH g AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM places_grid WHERE tier <> 'micro') "
            f"INSERT INTO watch_groupmessage ({', '.join(names)}) "
            f"SELECT {', '.join(values[c] for c in names)} "
            f"FROM generate_series(1, {total}) n "
            "JOIN g ON g.rn = 1 + (hashint4(n) & 2147483647) % (SELECT count(*) FROM g)"
        )
        cur.execute(sql)
        log(f"messages: {cur.rowcount:,} ({args.urgent:,} urgent, flagged)")
    with connection.cursor() as cur:
        cur.execute("ANALYZE watch_groupmessage")


# --- the real rollup ---------------------------------------------------------------------------------------


def rebuild_windows(args: argparse.Namespace) -> None:
    day = "(created_at AT TIME ZONE 'Asia/Shanghai')::date"
    # cockpit_rebuild --from/--to counts only the events below the watermark; on a fresh database
    # nothing has moved it yet: move it to the newest event, as the full rebuild (rebuild_all) does.
    psql(
        "INSERT INTO cockpit_rollupmark (name, last_id, horizon_id, horizon_at) "
        "SELECT 'case_events', max(id), max(id), now() FROM cases_caseevent "
        "ON CONFLICT (name) DO UPDATE SET last_id = greatest(cockpit_rollupmark.last_id, excluded.last_id), "
        "horizon_id = greatest(cockpit_rollupmark.horizon_id, excluded.horizon_id), horizon_at = now()",
        db=args.db,
    )
    for window in args.windows.split(","):
        first, last = window.split(":")
        t = time.perf_counter()
        subprocess.run(
            ["nice", DUALGRID, "cockpit_rebuild", "--from", first, "--to", last],
            env=bench_env(args.db),
            check=True,
        )
        log(f"rebuild {first} … {last}: {time.perf_counter() - t:,.0f} s")
        rolled = psql(
            "SELECT concat_ws(' ', sum(received), sum(rejected), sum(closed), sum(auto_closed)) FROM cockpit_dailyfigure "
            f"WHERE level = 0 AND dim = 'total' AND day BETWEEN '{first}' AND '{last}'",
            db=args.db,
        )
        table = psql(
            "SELECT concat_ws(' ', count(*) FILTER (WHERE action = 'create'), count(*) FILTER (WHERE action = 'reject'), "
            "count(*) FILTER (WHERE to_status = 'closed'), count(*) FILTER (WHERE action = 'auto_close')) "
            f"FROM cases_caseevent WHERE {day} BETWEEN '{first}' AND '{last}'",
            db=args.db,
        )
        log(
            f"  received rejected closed auto_closed: {rolled} vs events {table} {'OK' if rolled == table else 'DIFFERENT'}"
        )
        # The monthly and yearly rows of the window's months and years against their daily rows.
        for grain, table_name, bucket in (
            ("month", "cockpit_monthlyfigure", "date_trunc('month', day)::date"),
            ("year", "cockpit_yearlyfigure", "date_trunc('year', day)::date"),
        ):
            differ = psql(
                f"WITH d AS (SELECT {bucket} AS b, dim, sum(received) r, sum(closed) c, sum(signed) s "
                f"FROM cockpit_dailyfigure WHERE level = 0 AND {bucket} BETWEEN date_trunc('{grain}', '{first}'::date) "
                f"AND '{last}' GROUP BY 1, 2), m AS (SELECT day AS b, dim, sum(received) r, sum(closed) c, "
                f"sum(signed) s FROM {table_name} WHERE level = 0 AND day BETWEEN date_trunc('{grain}', '{first}'::date) "
                f"AND '{last}' GROUP BY 1, 2) SELECT count(*) FROM d FULL JOIN m USING (b, dim) "
                "WHERE d.r IS DISTINCT FROM m.r OR d.c IS DISTINCT FROM m.c OR d.s IS DISTINCT FROM m.s",
                db=args.db,
            )
            log(f"  {grain} rows (whole platform, every dim) against the daily sums: {differ} different")
    psql(
        "BEGIN; DELETE FROM cockpit_gridload; INSERT INTO cockpit_gridload (grid_id, open) "
        "SELECT grid_id, count(*) FROM cases_case WHERE status NOT IN ('closed', 'void') AND grid_id IS NOT NULL "
        "GROUP BY 1; COMMIT; ANALYZE cockpit_gridload; ANALYZE cockpit_dailyfigure",
        db=args.db,
    )
    log(
        "rebuild: grid tallies set from the case table: "
        + psql("SELECT sum(open) FROM cockpit_gridload", db=args.db)
    )


def step_rebuild(args: argparse.Namespace) -> None:
    if args.windows:
        rebuild_windows(args)
        return
    t = time.perf_counter()
    subprocess.run(["nice", DUALGRID, "cockpit_rebuild"], env=bench_env(args.db), check=True)
    log(f"rebuild: dualgrid cockpit_rebuild in {time.perf_counter() - t:,.0f} s")
    checks = {
        "received = cases": (
            "SELECT sum(received) FROM cockpit_dailyfigure WHERE level = 0 AND dim = 'total'",
            "SELECT count(*) FROM cases_case",
        ),
        "rejected = void": (
            "SELECT sum(rejected) FROM cockpit_dailyfigure WHERE level = 0 AND dim = 'total'",
            "SELECT count(*) FROM cases_case WHERE status = 'void'",
        ),
        "closed = closed": (
            "SELECT sum(closed) FROM cockpit_dailyfigure WHERE level = 0 AND dim = 'total'",
            "SELECT count(*) FROM cases_case WHERE status = 'closed'",
        ),
        "auto_closed = unrated": (
            "SELECT sum(auto_closed) FROM cockpit_dailyfigure WHERE level = 0 AND dim = 'total'",
            "SELECT count(*) FROM cases_case WHERE close_reason = 'unrated'",
        ),
        "grid tallies = open cases with a grid": (
            "SELECT sum(open) FROM cockpit_gridload",
            "SELECT count(*) FROM cases_case WHERE status NOT IN ('closed', 'void') AND grid_id IS NOT NULL",
        ),
    }
    for name, (rolled, table) in checks.items():
        a, b = psql(rolled, db=args.db), psql(table, db=args.db)
        log(f"  {name}: {a} vs {b} {'OK' if a == b else 'DIFFERENT'}")
    log(
        "  daily rows: "
        + psql(
            "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('cockpit_dailyfigure')) "
            "FROM cockpit_dailyfigure",
            db=args.db,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
