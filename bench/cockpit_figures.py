#!/usr/bin/env python
"""Warm latency of the cockpit's JSON endpoints (issue #5) on the bench database.

Meant for the database filled by bench/bulk_cases.py, with the daily figures built once by
``dualgrid cockpit_rebuild`` (the worker keeps them current after that). Starts `dualgrid serve` on
127.0.0.1:8897 (DEBUG off), logs in through /login/ as ``leader`` (the county), ``town1`` (a town)
and ``admin`` (everything), and for every scenario: --warmup requests, then --n sequential requests.
Reports p50/p95/p99/max, checks every answer is 200 JSON, writes bench/out/cockpit_figures.json.

    .venv/bin/python bench/cockpit_figures.py
    .venv/bin/python bench/cockpit_figures.py --n 50 --only leader-year
    .venv/bin/python bench/cockpit_figures.py --db dualgrid_city10m --leader cleader --town ctown \
        --port 8731 --out cockpit_figures_city10m.json          # bench/city_cases.py's city
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import DEFAULT_DB, HOST, OUT, Server, log, machine, percentile, psql  # noqa: E402

PORT = 8897


class Session:
    """A logged-in browser session over one keep-alive connection."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.port = port
        self.cookies: dict[str, str] = {}
        status, body = self.get("/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not match:
            raise SystemExit(f"login page: HTTP {status}")
        form = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode()}
        )
        status, _ = self.request(
            "POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login as {username}: HTTP {status}")

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["Referer"] = f"http://{HOST}:{self.port}/login/"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, data

    def get(self, path: str):
        return self.request("GET", path)


def scenarios(
    today: date, db: str, leader: str = "leader", town: str = "town1"
) -> list[tuple[str, str, str]]:
    """(name, username, path). ``leader``: a county's leader; ``town``: a town's user (the scenario
    names keep "leader" and "town1" whoever they are)."""
    village = psql(
        "SELECT v.id FROM places_adminunit v JOIN places_adminunit t ON t.id = v.parent_id "
        f"JOIN accounts_user u ON u.unit_id = t.id WHERE u.username = '{town}' ORDER BY v.code LIMIT 1",
        db=db,
    )
    # The busiest grid of the leader's county (with one county in the database: the busiest grid).
    busiest_grid = psql(
        "SELECT f.unit_id FROM cockpit_dailyfigure f JOIN places_grid g ON g.id = f.unit_id "
        f"JOIN accounts_user u ON u.unit_id = g.county_id AND u.username = '{leader}' "
        "WHERE f.level = 4 AND f.dim = 'total' GROUP BY 1 ORDER BY sum(f.received) DESC LIMIT 1",
        db=db,
    )
    three_years = f"from={today - timedelta(days=3 * 365)}&to={today}"
    return [
        ("leader-month", leader, "/cockpit/figures.json?period=month"),
        ("leader-year", leader, "/cockpit/figures.json?period=year"),
        ("leader-3-years", leader, f"/cockpit/figures.json?{three_years}"),
        ("town1-month", town, "/cockpit/figures.json?period=month"),
        ("town1-village-year", town, f"/cockpit/figures.json?place=3-{village}&period=year"),
        ("leader-grid-year", leader, f"/cockpit/figures.json?place=4-{busiest_grid}&period=year"),
        ("admin-month", "admin", "/cockpit/figures.json?period=month"),
        ("admin-year", "admin", "/cockpit/figures.json?period=year"),
        ("admin-3-years", "admin", f"/cockpit/figures.json?{three_years}"),
        ("leader-map", leader, "/cockpit/map.json"),
        ("town1-map", town, "/cockpit/map.json"),
        ("admin-map", "admin", "/cockpit/map.json"),
    ]


class _RolledBack(Exception):
    pass


def measure_rollup(db: str, batches: int = 5, batch: int = 5000) -> dict[str, list[float]]:
    """Seconds to roll up ``batch`` events, on the newest events of the bench database, each inside a
    transaction that is rolled back (the figures are left as they were): ``daily`` = aggregate + the
    daily rows' upsert only (the rollup before the monthly and yearly rows), ``all_grains`` = aggregate
    + the day, month and year upserts (``rollup.add_figures``, what the worker does now)."""
    import os

    os.environ["DATABASE_URL"] = f"postgres://postgres@{HOST}:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    import django

    django.setup()
    from django.db import transaction

    from dualgrid.cases.models import CaseEvent
    from dualgrid.cockpit.rollup import _aggregate, _upsert, add_figures

    top = CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    times: dict[str, list[float]] = {"daily": [], "all_grains": []}
    for n in range(batches):
        upper = top - n * batch
        for name, write in (("daily", _upsert), ("all_grains", add_figures)):
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    write(_aggregate(CaseEvent.objects.filter(id__gt=upper - batch, id__lte=upper)))
                    raise _RolledBack
            except _RolledBack:
                pass
            times[name].append(time.perf_counter() - started)
    return times


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--n", type=int, default=200, help="timed requests per scenario")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--only", default="", help="comma-separated parts of scenario names")
    p.add_argument("--leader", default="leader", help="username of a county's leader")
    p.add_argument("--town", default="town1", help="username of a town's user")
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--no-rollup", action="store_true", help="skip the timing of a 5,000-event rollup batch")
    p.add_argument("--out", default="cockpit_figures.json", help="file name under bench/out/")
    p.add_argument(
        "--app-path", help="serve this copy of the dualgrid package instead (e.g. an older commit)"
    )
    args = p.parse_args()
    today = date.fromisoformat(psql("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date", db=args.db))
    counts = {
        "cases": int(psql("SELECT count(*) FROM cases_case", db=args.db)),
        "events": int(psql("SELECT count(*) FROM cases_caseevent", db=args.db)),
        "grids": int(psql("SELECT count(*) FROM places_grid", db=args.db)),
        "daily_rows": int(psql("SELECT count(*) FROM cockpit_dailyfigure", db=args.db)),
        "monthly_rows": int(psql("SELECT count(*) FROM cockpit_monthlyfigure", db=args.db)),
        "yearly_rows": int(psql("SELECT count(*) FROM cockpit_yearlyfigure", db=args.db)),
        "open_cases": int(
            psql("SELECT count(*) FROM cases_case WHERE status NOT IN ('closed', 'void')", db=args.db)
        ),
    }
    log(f"database {args.db}: {counts}")
    results = []
    with Server(args.port, workers=2, threads=1, db=args.db, app_path=args.app_path):
        sessions: dict[str, Session] = {}
        for name, username, path in scenarios(today, args.db, args.leader, args.town):
            if args.only and not any(part in name for part in args.only.split(",")):
                continue
            session = sessions.get(username) or Session(args.port, username, "demo1234")
            sessions[username] = session
            for _ in range(args.warmup):
                session.get(path)
            times = []
            size = 0
            for _ in range(args.n):
                started = time.perf_counter()
                status, body = session.get(path)
                times.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise SystemExit(f"{name}: HTTP {status} {body[:200]!r}")
                size = len(body)
            json.loads(body)
            times.sort()
            row = {
                "scenario": name,
                "path": path,
                "n": args.n,
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "p99_ms": round(percentile(times, 99), 1),
                "max_ms": round(times[-1], 1),
                "bytes": size,
            }
            results.append(row)
            log(
                f"{name:22} p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f}  "
                f"max {row['max_ms']:7.1f} ms  {size:,} B"
            )
    rollup = measure_rollup(args.db) if counts["events"] and not args.no_rollup else {}
    for name, times in rollup.items():
        log(
            f"rollup of 5,000 events (aggregate + upsert, rolled back), {name}: "
            + ", ".join(f"{t * 1000:.0f} ms" for t in times)
        )
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / args.out
    out.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": machine(),
                "database": counts,
                "results": results,
                "rollup_5000_events_s": rollup,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    log(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
