#!/usr/bin/env python
"""EXPLAIN (ANALYZE, BUFFERS) of the SQL behind GET /api/v1/cases and the dispatcher's web queue.

Builds each query exactly as the app does (``selectors.case_list`` with the API's filters, sliced to
page_size + 1 = 21 rows; the web queue's ``queues.tab_counts``/``tab_cases`` and the Paginator's
COUNT), prints the SQL and PostgreSQL's plan with timings. Read-only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualgrid_bench \\
        .venv/bin/python bench/explain_list.py > bench/out/explain.txt
    ... bench/explain_list.py --only dispatcher-overdue
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="")
    p.add_argument("--runs", type=int, default=3, help="plan shown for the last run (warm cache)")
    args = p.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    import django

    django.setup()
    from django.db import connection

    from dualgrid.accounts.models import User
    from dualgrid.cases import selectors
    from dualgrid.cases.models import DeadlineState
    from dualgrid.web import queues

    if connection.vendor != "postgresql":
        raise SystemExit("explain_list: needs PostgreSQL (set DATABASE_URL)")
    users = {u.username: u for u in User.objects.filter(username__in=["dispatcher", "town1", "gridworker"])}
    gw_grid = users["gridworker"].grids.values_list("id", flat=True).first()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT grid_id FROM cases_case WHERE grid_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        busiest = cur.fetchone()[0]
    d, t, g = users["dispatcher"], users["town1"], users["gridworker"]
    overdue = DeadlineState.OVERDUE
    cases = {
        "dispatcher-first-page": lambda: selectors.case_list(d)[:21],
        "dispatcher-status-new": lambda: selectors.case_list(d, status=["new"])[:21],
        "dispatcher-status-pending_dispatch": lambda: selectors.case_list(d, status=["pending_dispatch"])[
            :21
        ],
        "dispatcher-overdue": lambda: selectors.case_list(d, deadline_state=overdue)[:21],
        "dispatcher-grid": lambda: selectors.case_list(d, grid_id=busiest)[:21],
        "town1-first-page": lambda: selectors.case_list(t)[:21],
        "town1-overdue": lambda: selectors.case_list(t, deadline_state=overdue)[:21],
        "gridworker-first-page": lambda: selectors.case_list(g)[:21],
        "gridworker-grid-in_progress": lambda: selectors.case_list(
            g, status=["in_progress"], grid_id=gw_grid
        )[:21],
        "dispatcher-page-200": lambda: selectors.case_list(d)[3980:4001],
        "dispatcher-with-count (COUNT)": lambda: selectors.case_list(d).order_by(),
        "dispatcher-q-title": lambda: selectors.case_list(d, query="路灯")[:21],
        "web-queue-tab_counts (aggregate)": None,
        "web-queue-tab-new": lambda: queues.tab_cases(d, "new")[:20],
        "web-queue-tab-deadline": lambda: queues.tab_cases(d, "deadline")[:20],
        "web-case_list-paginator (COUNT)": lambda: selectors.case_list(d).order_by(),
    }
    from django.test.utils import CaptureQueriesContext

    def tab_counts() -> object:
        return queues.tab_counts(d)

    for name, build in cases.items():
        if args.only and not any(name.startswith(o) for o in args.only.split(",")):
            continue
        print("=" * 100)
        print(name)
        if name.startswith("web-queue-tab_counts"):
            run = tab_counts
        elif "(COUNT)" in name:
            run = lambda build=build: build().count()  # noqa: E731
        else:
            run = lambda build=build: list(build())  # noqa: E731
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                result = run()
                wall = (time.perf_counter() - start) * 1000
        sql = ctx.captured_queries[-1]["sql"]
        size = len(result) if isinstance(result, list) else result
        print(f"-- result {size!r:.80}; ORM wall time (last of {args.runs}): {wall:.1f} ms")
        print(sql)
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\n".join(r[0] for r in cur.fetchall()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
