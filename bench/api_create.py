#!/usr/bin/env python
"""Case creation through the HTTP API (POST /api/v1/cases) under wrk, on PostgreSQL.

For each server configuration (gunicorn workers × threads, `dualgrid serve`, DEBUG off):
start the server on 127.0.0.1:8899, take a Bearer token (calltaker), warm up, note the highest case
id, run wrk with bench/create_case.lua for --duration at --connections, stop the server, then check
the database against what wrk was told: every acknowledged 201 is a row, nothing doubled, and
every new row has its create event. Rows created for requests that were still in flight when wrk
stopped (at most one per connection) are reported separately.

    .venv/bin/python bench/api_create.py                         # 3×1, 30 s, 32 connections
    .venv/bin/python bench/api_create.py --configs 2x1,3x1,4x1,2x2,3x2,2x4 --duration 30
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (  # noqa: E402
    BENCH,
    DEFAULT_DB,
    OUT,
    PYTHON,
    ROOT,
    Server,
    bench_env,
    children_cpu,
    cpu_snapshot,
    cpu_split,
    cpu_ticks,
    ensure_database,
    log,
    machine,
    machine_busy,
    psql,
    token,
)

URL_PATH = "/api/v1/cases"


def make_bodies(path: Path, n: int, db: str, seed: int = 7) -> None:
    """n request bodies: points inside real demo grids, a mix of category codes (routed to a grid,
    routed to a department, unrouted, a top-level code, none), channels and reporters."""
    code = f"""
import json, random, sys
import django; django.setup()
import shapely
from shapely import wkt
from dualgrid.places.models import Grid
from dualgrid.cases.models import Category, RoutingRule
from dualgrid.demo import texts
rng = random.Random({seed})
grids = list(Grid.objects.filter(active=True).order_by("id"))
weights = [max(g.population, 1) for g in grids]
leaf = list(Category.objects.filter(active=True, parent__isnull=False).values_list("code", flat=True))
top = list(Category.objects.filter(active=True, parent__isnull=True).values_list("code", flat=True))
routed = set(RoutingRule.objects.filter(active=True).values_list("category__code", flat=True))
shapes = {{}}
out = open(sys.argv[1], "w")
stats = {{"routed_leaf": 0, "unrouted_leaf": 0, "top": 0, "none": 0}}
for i in range({n}):
    g = rng.choices(grids, weights)[0]
    if g.pk not in shapes:
        shapes[g.pk] = wkt.loads(g.boundary); shapely.prepare(shapes[g.pk])
    geom = shapes[g.pk]
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            break
    else:
        p = geom.representative_point(); x, y = p.x, p.y
    leaf_code = rng.choice(leaf)
    roll = rng.random()
    if roll < 0.70:
        cat = leaf_code
        stats["routed_leaf" if cat in routed or cat[:2] in routed else "unrouted_leaf"] += 1
    elif roll < 0.80:
        cat = rng.choice(top); stats["top"] += 1
    else:
        cat = None; stats["none"] += 1
    rep = texts.make_report(rng, leaf_code, g.name.split("第")[0])
    body = {{
        "title": rep.title, "description": rep.description,
        "channel": rep.channel if rep.channel in ("web", "hotline", "patrol", "group", "12345") else "hotline",
        "reporter_name": rep.reporter_name, "reporter_phone": rep.reporter_phone,
        "lat": round(y, 6), "lng": round(x, 6), "address": rep.address,
    }}
    if cat:
        body["category_code"] = cat
    out.write(json.dumps(body, ensure_ascii=False) + "\\n")
out.close()
print(json.dumps(stats))
"""
    res = subprocess.run(
        [PYTHON, "-c", code, str(path)], env=bench_env(db), cwd=ROOT, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    log(f"bodies: {n} written to {path.relative_to(ROOT)}  category mix {res.stdout.strip()}")


def run_wrk(
    port: int, tok: str, bodies: Path, ack_dir: Path | None, threads: int, conns: int, secs: int
) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{secs}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "create_case.lua"),
        f"http://127.0.0.1:{port}{URL_PATH}",
        "--",
        tok,
        str(bodies),
    ]
    if ack_dir is not None:
        cmd.append(str(ack_dir))
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    out = res.stdout
    stats: dict = {"raw": out, "stderr": res.stderr}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and (parts[0].startswith(("responses_", "latency_", "created_per", "duration"))):
            stats[parts[0]] = float(parts[1])
        if line.startswith("Requests/sec:"):
            stats["req_per_s"] = float(line.split()[1])
        if line.startswith("first_error"):
            stats["first_error"] = line
        if line.startswith("socket_errors"):
            stats["socket_errors"] = line.split(None, 1)[1]
    return stats


def settle(db: str, timeout: float = 60) -> None:
    """Wait until the case count stops moving (the server drains what wrk left queued)."""
    last, deadline = -1, time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.5)
        n = int(psql("SELECT count(*) FROM cases_case", db=db))
        if n == last:
            return
        last = n


def verify(before_max: int, ack_dir: Path, db: str) -> dict:
    acked: list[int] = []
    bad = 0
    for f in sorted(ack_dir.glob("acks-*.txt")):
        for line in f.read_text().split():
            if line.isdigit():
                acked.append(int(line))
            else:
                bad += 1
    created = {int(x) for x in psql(f"SELECT id FROM cases_case WHERE id > {before_max}", db=db).split()}
    ack_set = set(acked)
    lost = ack_set - created
    unacked = created - ack_set
    no_event = int(
        psql(
            f"SELECT count(*) FROM cases_case c WHERE c.id > {before_max} AND NOT EXISTS "
            "(SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'create')",
            db=db,
        )
    )
    mix = psql(
        f"SELECT status, count(*) FROM cases_case WHERE id > {before_max} GROUP BY 1 ORDER BY 2 DESC", db=db
    )
    return {
        "acked": len(acked),
        "acked_unique": len(ack_set),
        "ack_unparsed": bad,
        "rows_created": len(created),
        "lost": len(lost),
        "doubled": len(acked) - len(ack_set),
        "created_not_acked": len(unacked),
        "rows_without_create_event": no_event,
        "status_mix": mix.replace("\n", ", ").replace("|", "="),
    }


def one_config(args: argparse.Namespace, workers: int, threads: int, bodies: Path, tok_user: str) -> dict:
    tag = f"w{workers}t{threads}"
    with Server(
        args.port, workers, threads, db=args.db, log=OUT / f"serve-create-{tag}.log", app_path=args.app_path
    ) as srv:
        tok = token(args.port, tok_user)
        # Warm-up: every worker loads its code, grid index and DB connections.
        run_wrk(args.port, tok, bodies, None, args.wrk_threads, args.connections, args.warmup)
        settle(args.db)  # requests queued at the warm-up's cut-off still finish on the server
        before_count = int(psql("SELECT count(*) FROM cases_case", db=args.db))
        before_max = int(psql("SELECT COALESCE(max(id), 0) FROM cases_case", db=args.db))
        ack_dir = OUT / f"acks-{tag}"
        shutil.rmtree(ack_dir, ignore_errors=True)
        ack_dir.mkdir(parents=True)
        pids = srv.pids()
        busy0 = machine_busy()
        cpu0, t0, snap0, wrk0 = cpu_ticks(pids), time.monotonic(), cpu_snapshot(), children_cpu()
        stats = run_wrk(args.port, tok, bodies, ack_dir, args.wrk_threads, args.connections, args.duration)
        cpu1, t1, snap1, wrk1 = cpu_ticks(pids), time.monotonic(), cpu_snapshot(), children_cpu()
        busy1 = machine_busy()
        settle(args.db)  # let requests in flight at wrk's cut-off finish
    after_count = int(psql("SELECT count(*) FROM cases_case", db=args.db))
    check = verify(before_max, ack_dir, args.db)
    result = {
        "config": f"{workers}x{threads}",
        "workers": workers,
        "threads": threads,
        "connections": args.connections,
        "duration_s": args.duration,
        "rows_before": before_count,
        "rows_after": after_count,
        "server_cpu_cores": round((cpu1 - cpu0) / (t1 - t0), 2),
        "cores_used": {
            **cpu_split(snap0, snap1, set(pids), t1 - t0),
            "wrk": round((wrk1 - wrk0) / (t1 - t0), 2),
            "machine_busy": round((busy1 - busy0) / (t1 - t0), 2),
        },
        **{k: v for k, v in stats.items() if k not in {"raw", "stderr"}},
        **check,
    }
    (OUT / f"wrk-create-{tag}.txt").write_text(stats["raw"] + stats["stderr"])
    ok = check["lost"] == 0 and check["doubled"] == 0 and check["rows_without_create_event"] == 0
    ok = ok and check["rows_created"] == check["acked"] + check["created_not_acked"]
    ok = ok and after_count - before_count == check["rows_created"]
    result["verified"] = ok
    log(
        f"{tag}: {stats.get('created_per_s', 0):.1f} cases/s  p50 {stats.get('latency_p50_ms', 0):.1f} ms"
        f"  p95 {stats.get('latency_p95_ms', 0):.1f} ms  p99 {stats.get('latency_p99_ms', 0):.1f} ms"
        f"  2xx {int(stats.get('responses_2xx', 0))} non-2xx {int(stats.get('responses_4xx', 0) + stats.get('responses_5xx', 0))}"
        f"  rows +{after_count - before_count} (acked {check['acked']}, in flight at cut-off"
        f" {check['created_not_acked']}, lost {check['lost']}, doubled {check['doubled']})"
        f"  cores {result['cores_used']}  {'VERIFIED' if ok else 'MISMATCH'}"
    )
    if stats.get("first_error"):
        log("  " + stats["first_error"])
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--port", type=int, default=8899)
    p.add_argument("--configs", default="3x1", help="workers x threads, comma-separated, e.g. 2x1,3x2")
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--bodies", type=int, default=2000)
    p.add_argument("--user", default="calltaker", help="the account that registers the cases")
    p.add_argument("--app-path", help="serve this copy of the dualgrid package instead (scratch experiments)")
    p.add_argument("--json", type=Path, default=OUT / "api_create.json")
    args = p.parse_args()
    if args.duration > 600 or args.connections > 256:
        raise SystemExit("keep runs bounded: --duration ≤ 600, --connections ≤ 256")
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_database(args.db, app_path=args.app_path)
    bodies = OUT / "bodies.jsonl"
    make_bodies(bodies, args.bodies, args.db)
    results = []
    for cfg in args.configs.split(","):
        w, t = (int(x) for x in cfg.lower().split("x"))
        results.append(one_config(args, w, t, bodies, args.user))
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "app_path": args.app_path or str(ROOT / "dualgrid"),
        "results": results,
    }
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    best = max(results, key=lambda r: r.get("created_per_s", 0))
    log(
        f"best: {best['config']} at {best.get('created_per_s', 0):.1f} cases/s, p95 {best.get('latency_p95_ms')} ms"
    )
    log(f"results written to {args.json.resolve().relative_to(ROOT)}")
    return 0 if all(r["verified"] for r in results) else 1


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
