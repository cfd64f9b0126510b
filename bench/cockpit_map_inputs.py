#!/usr/bin/env python
"""Time each of the cockpit map's five inputs (issue #5) separately, in-process, warm.

``selectors.grid_states`` — what /cockpit/map.json computes — is called ``--n`` times (after
``--warmup``) for each user's whole scope, with a query wrapper timing every SQL statement it runs and
naming it by what it reads: the grids, the open-case tallies (``cockpit_gridload``), overdue cases,
urgent group messages, unresolved disputes, and the three reads of the overdue-visit count (tags,
recent visits, last visits). ``overdue_visits_by_grid`` is also timed as a whole (its queries plus the
Python that applies each resident's rule). Then EXPLAIN (ANALYZE, BUFFERS) of the disputes and
overdue-case queries of every user goes to bench/out/map_inputs_<db>_<user>.txt.

    .venv/bin/python bench/cockpit_map_inputs.py --db dualgrid_city10m --users cleader,ctown,admin
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import OUT, bench_env, log, percentile  # noqa: E402


def label(sql: str) -> str:
    s = sql.lower()
    if "cockpit_gridload" in s:
        return "open tallies (gridload)"
    if "watch_groupmessage" in s:
        return "urgent messages"
    if "people_residenttag" in s:
        return "visits: tags in force"
    if "people_visit" in s and "max(" in s:
        return "visits: last visit"
    if "people_visit" in s:
        return "visits: last 2 weeks"
    if "cases_category" in s and "cases_case" not in s:
        return "dispute category ids"
    if "cases_case" in s and "deadline_state" in s:
        return "overdue cases"
    if "cases_case" in s and "category_id" in s:
        return "disputes"
    if "places_grid" in s:
        return "grids"
    return "other: " + re.sub(r"\s+", " ", sql)[:60]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="dualgrid_city10m")
    p.add_argument("--users", default="cleader,ctown,admin")
    p.add_argument("--n", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    os.environ.update(bench_env(args.db))
    import django

    django.setup()
    from django.db import connection

    from dualgrid.accounts.models import User
    from dualgrid.cockpit import selectors
    from dualgrid.people.selectors import overdue_visits_by_grid
    from dualgrid.places.models import GridTier
    from dualgrid.places.selectors import grids_for_user

    results = {}
    for username in args.users.split(","):
        user = User.objects.get(username=username)
        place = selectors.root_place(user)
        timings: dict[str, list[float]] = defaultdict(list)
        statements: dict[str, tuple[str, tuple]] = {}
        total: list[float] = []
        current: dict[str, float] = defaultdict(float)

        def wrapper(execute, sql, params, many, context, current=current, statements=statements):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                name = label(sql)
                current[name] += (time.perf_counter() - t) * 1000
                statements[name] = (sql, params)

        states = []
        for i in range(args.warmup + args.n):
            current.clear()
            with connection.execute_wrapper(wrapper):
                t = time.perf_counter()
                states = selectors.grid_states(user, place)
                elapsed = (time.perf_counter() - t) * 1000
            if i >= args.warmup:
                total.append(elapsed)
                for name, ms in current.items():
                    timings[name].append(ms)
        grids = grids_for_user(user).filter(active=True).exclude(tier=GridTier.MICRO)
        if place.county_ids:
            grids = grids.filter(county_id__in=place.county_ids)
        visits_total = []
        for i in range(args.warmup + args.n):
            t = time.perf_counter()
            overdue_visits_by_grid(grids.values("id"))
            if i >= args.warmup:
                visits_total.append((time.perf_counter() - t) * 1000)
        row = {
            "grids": len(states),
            "sums": {
                k: sum(s[k] for s in states)
                for k in ("open", "overdue", "urgent_messages", "disputes", "overdue_visits")
            },
            "levels": {lv: sum(1 for s in states if s["level"] == lv) for lv in {s["level"] for s in states}},
            "ms": {},
        }
        for name, values in [
            ("grid_states (whole map)", total),
            ("overdue_visits_by_grid (whole)", visits_total),
        ] + sorted(timings.items()):
            values.sort()
            row["ms"][name] = {
                "p50": round(percentile(values, 50), 1),
                "p95": round(percentile(values, 95), 1),
            }
        results[username] = row
        log(f"{username}: {place.label}, {row['grids']} grids, sums {row['sums']}, levels {row['levels']}")
        for name, v in row["ms"].items():
            log(f"    {name:34} p50 {v['p50']:8.1f}  p95 {v['p95']:8.1f} ms")
        lines = []
        with connection.cursor() as cur:
            for name in ("disputes", "overdue cases", "visits: tags in force", "visits: last visit"):
                if name not in statements:
                    continue
                sql, params = statements[name]
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [r[0] for r in cur.fetchall()]
                lines.append(f"-- {name}\n{cur.mogrify(sql, params)}\n")
                lines.extend(plan)
                lines.append("")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"map_inputs_{args.db}_{username}.txt").write_text("\n".join(lines))
    out = OUT / f"map_inputs_{args.db}.json"
    out.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results},
            ensure_ascii=False,
            indent=2,
        )
    )
    log(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
