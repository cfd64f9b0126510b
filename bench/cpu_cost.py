#!/usr/bin/env python
"""CPU cost per request, in process: application CPU (this Python process) + PostgreSQL backend CPU.

Wall-clock throughput on a shared 2-core machine moves with whatever else runs there; CPU time per
request does not (much). This sends N requests through Django's test client (the whole middleware
and django-ninja stack, without gunicorn and sockets) and divides the CPU time used by this process
and by its PostgreSQL backend (from /proc/<pid>/stat) by N. Capacity on 2 cores is then roughly
2000 / (app_ms + db_ms) requests/s, before gunicorn, HTTP and the load generator take their share.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualgrid_bench .venv/bin/python bench/cpu_cost.py create
    DATABASE_URL=... PYTHONPATH=/tmp/dg_fix .venv/bin/python bench/cpu_cost.py create     # a scratch copy
    DATABASE_URL=... .venv/bin/python bench/cpu_cost.py list --user dispatcher --query overdue=true
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=("create", "list"))
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--user", default=None, help="create: calltaker; list: dispatcher")
    p.add_argument("--query", default="", help="list: query string, e.g. status=new")
    p.add_argument("--profile", type=Path, help="write a cProfile of the measured requests here")
    args = p.parse_args()
    if args.n > 5000:
        raise SystemExit("--n ≤ 5000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    import dualgrid

    if connection.vendor != "postgresql":
        raise SystemExit("cpu_cost: needs PostgreSQL (set DATABASE_URL)")
    user = args.user or ("calltaker" if args.what == "create" else "dispatcher")
    c = Client()
    r = c.post(
        "/api/v1/auth/token",
        json.dumps({"username": user, "password": "demo1234"}),
        content_type="application/json",
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}
    if args.what == "create":
        bodies_path = OUT / "bodies.jsonl"
        if not bodies_path.exists():
            raise SystemExit("run bench/api_create.py once first (it writes bench/out/bodies.jsonl)")
        bodies = bodies_path.read_text().splitlines()

        def one(i: int) -> int:
            resp = c.post(
                "/api/v1/cases", bodies[i % len(bodies)], content_type="application/json", **headers
            )
            return resp.status_code

        expect = 201
    else:
        path = "/api/v1/cases" + (f"?{args.query}" if args.query else "")

        def one(i: int) -> int:
            return c.get(path, **headers).status_code

        expect = 200
    for i in range(args.warmup):
        assert one(i) == expect
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
    app0, db0, t0 = time.process_time(), proc_cpu(backend), time.perf_counter()
    if prof:
        prof.enable()
    bad = 0
    for i in range(args.warmup, args.warmup + args.n):
        bad += one(i) != expect
    if prof:
        prof.disable()
    app1, db1, t1 = time.process_time(), proc_cpu(backend), time.perf_counter()
    app_ms = (app1 - app0) / args.n * 1000
    db_ms = (db1 - db0) / args.n * 1000
    result = {
        "what": args.what,
        "query": args.query,
        "user": user,
        "package": str(Path(dualgrid.__file__).parent),
        "n": args.n,
        "app_cpu_ms": round(app_ms, 2),
        "db_cpu_ms": round(db_ms, 2),
        "total_cpu_ms": round(app_ms + db_ms, 2),
        "wall_ms": round((t1 - t0) / args.n * 1000, 2),
        "capacity_2_cores_per_s": round(2000 / (app_ms + db_ms), 1),
        "unexpected_status": bad,
    }
    print(json.dumps(result, ensure_ascii=False))
    if prof and args.profile:
        prof.dump_stats(str(args.profile))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
