#!/usr/bin/env python
"""Latency of GET /api/v1/cases (the dispatcher's queue / case list) on the bench database.

Meant for the database filled by bench/bulk_cases.py (1,000,000 cases). Starts `dualgrid serve` on
127.0.0.1:8899 (DEBUG off), takes tokens for `dispatcher` (county), `town1` (town) and `gridworker`,
and for every scenario: --warmup requests, then --seq sequential requests, then --conc threads each
issuing --per-thread requests at once (keep-alive connections). Reports p50/p95/p99/max and req/s,
checks every answer is 200 with a well-formed page, and stops the server.

    .venv/bin/python bench/list_latency.py                   # 300 sequential + 8-way concurrent
    .venv/bin/python bench/list_latency.py --only dispatcher-overdue --seq 100
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (  # noqa: E402
    DEFAULT_DB,
    HOST,
    OUT,
    ROOT,
    Server,
    cpu_snapshot,
    cpu_split,
    log,
    machine,
    machine_busy,
    percentile,
    psql,
    token,
)

EXTRA = "extra"  # scenarios beyond the list: shown separately in the doc


def scenarios(db: str) -> list[tuple[str, str, str, str]]:
    """(name, user, query string, group)."""
    gw_grid = psql(
        "SELECT g.grid_id FROM accounts_user_grids g JOIN accounts_user u ON u.id = g.user_id "
        "WHERE u.username = 'gridworker' LIMIT 1",
        db=db,
    )
    busiest = psql(
        "SELECT grid_id FROM cases_case WHERE grid_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        db=db,
    )
    return [
        ("dispatcher-first-page", "dispatcher", "", "issue"),
        ("dispatcher-status-new", "dispatcher", "status=new", "issue"),
        ("dispatcher-status-pending_dispatch", "dispatcher", "status=pending_dispatch", "issue"),
        ("dispatcher-overdue", "dispatcher", "overdue=true", "issue"),
        (f"dispatcher-grid-{busiest}", "dispatcher", f"grid={busiest}", "issue"),
        ("town1-first-page", "town1", "", "issue"),
        ("town1-overdue", "town1", "overdue=true", "issue"),
        ("gridworker-first-page", "gridworker", "", "issue"),
        (
            f"gridworker-grid-{gw_grid}-in_progress",
            "gridworker",
            f"grid={gw_grid}&status=in_progress",
            "issue",
        ),
        ("dispatcher-page-200", "dispatcher", "page=200", EXTRA),
        ("dispatcher-with-count", "dispatcher", "with_count=true", EXTRA),
        ("dispatcher-q-title", "dispatcher", "q=%E8%B7%AF%E7%81%AF", EXTRA),  # q=路灯
        ("dispatcher-category-13", "dispatcher", "category=13", EXTRA),
        ("dispatcher-status-closed-grid", "dispatcher", f"status=closed&grid={busiest}", EXTRA),
    ]


def timed_get(conn: http.client.HTTPConnection, path: str, tok: str) -> tuple[float, int, bytes]:
    t = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {tok}"})
    resp = conn.getresponse()
    body = resp.read()
    return (time.perf_counter() - t) * 1000, resp.status, body


def check(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    data = json.loads(body)
    if "items" not in data:
        return f"no items: {body[:200]!r}"
    return None


def summarize(ms: list[float], wall: float) -> dict:
    ms = sorted(ms)
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(ms[-1], 1) if ms else None,
        "req_per_s": round(len(ms) / wall, 1) if wall else None,
    }


def run_scenario(port: int, tok: str, qs: str, args: argparse.Namespace) -> dict:
    path = "/api/v1/cases" + (f"?{qs}" if qs else "")
    errors: list[str] = []
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    _, status, body = timed_get(conn, path, tok)
    items = len(json.loads(body).get("items", [])) if status == 200 else 0
    for _ in range(args.warmup - 1):
        timed_get(conn, path, tok)
    # sequential
    seq_ms: list[float] = []
    t0 = time.perf_counter()
    for _ in range(args.seq):
        ms, status, body = timed_get(conn, path, tok)
        seq_ms.append(ms)
        err = check(status, body)
        if err:
            errors.append(err)
        if time.perf_counter() - t0 > args.time_limit:
            break
    seq_wall = time.perf_counter() - t0
    conn.close()
    # concurrent
    conc_ms: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        c = http.client.HTTPConnection(HOST, port, timeout=60)
        start = time.perf_counter()
        mine: list[float] = []
        for _ in range(args.per_thread):
            ms, status, body = timed_get(c, path, tok)
            mine.append(ms)
            err = check(status, body)
            if err:
                with lock:
                    errors.append(err)
            if time.perf_counter() - start > args.time_limit:
                break
        c.close()
        with lock:
            conc_ms.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(args.conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conc_wall = time.perf_counter() - t0
    return {
        "path": path,
        "items_on_page": items,
        "sequential": summarize(seq_ms, seq_wall),
        "concurrent": summarize(conc_ms, conc_wall),
        "errors": errors[:3],
        "error_count": len(errors),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--port", type=int, default=8899)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--seq", type=int, default=300)
    p.add_argument("--conc", type=int, default=8)
    p.add_argument("--per-thread", type=int, default=50)
    p.add_argument("--time-limit", type=float, default=90.0, help="seconds per phase at most")
    p.add_argument("--only", default="", help="comma-separated scenario names (prefix match)")
    p.add_argument("--no-extra", action="store_true", help="only the issue's scenarios")
    p.add_argument("--app-path", help="serve this copy of the dualgrid package instead (scratch experiments)")
    p.add_argument("--json", type=Path, default=OUT / "list_latency.json")
    args = p.parse_args()
    if args.seq > 5000 or args.conc > 64 or args.per_thread > 2000:
        raise SystemExit("keep runs bounded: --seq ≤ 5000, --conc ≤ 64, --per-thread ≤ 2000")
    OUT.mkdir(parents=True, exist_ok=True)
    n_cases = int(psql("SELECT count(*) FROM cases_case", db=args.db))
    log(f"{n_cases:,} cases in {args.db}")
    todo = scenarios(args.db)
    if args.only:
        todo = [s for s in todo if any(s[0].startswith(o) for o in args.only.split(","))]
    if args.no_extra:
        todo = [s for s in todo if s[3] != EXTRA]
    results = []
    with Server(
        args.port, args.workers, args.threads, db=args.db, log=OUT / "serve-list.log", app_path=args.app_path
    ) as srv:
        tokens = {u: token(args.port, u) for u in sorted({s[1] for s in todo})}
        pids = set(srv.pids())
        for name, user, qs, group in todo:
            snap0, t0, busy0 = cpu_snapshot(), time.monotonic(), machine_busy()
            r = run_scenario(args.port, tokens[user], qs, args)
            r["cores_used"] = cpu_split(snap0, cpu_snapshot(), pids, time.monotonic() - t0)
            r["cores_used"]["machine_busy"] = round((machine_busy() - busy0) / (time.monotonic() - t0), 2)
            r.update(name=name, user=user, group=group)
            results.append(r)
            s, c = r["sequential"], r["concurrent"]
            log(
                f"{name:<40} items {r['items_on_page']:>3}  seq p50 {s['p50_ms']:>7} p95 {s['p95_ms']:>7}"
                f" p99 {s['p99_ms']:>7} ms {s['req_per_s']:>6}/s | {args.conc}-way p50 {c['p50_ms']:>7}"
                f" p95 {c['p95_ms']:>7} p99 {c['p99_ms']:>7} ms {c['req_per_s']:>6}/s"
                + f"  busy {r['cores_used']['machine_busy']} other {r['cores_used']['other']}"
                + (f"  ERRORS {r['error_count']}: {r['errors'][0]}" if r["errors"] else "")
            )
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "cases": n_cases,
        "server": f"{args.workers}x{args.threads}",
        "app_path": args.app_path or str(ROOT / "dualgrid"),
        "results": results,
    }
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    log(f"results written to {args.json.resolve().relative_to(ROOT)}")
    return 0 if all(r["error_count"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
