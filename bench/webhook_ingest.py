#!/usr/bin/env python
"""Group-message ingestion through the signed webhook (POST /watch/hooks/<slug>/messages) under wrk.

For every configuration: start ``dualgrid serve`` on the bench database (PostgreSQL), sign
``--requests`` batches of ``--batch`` new messages each (self-written synthetic texts, ~10 % of them
actionable, spread over the demo district's chat groups; nothing from ../shared/data), run wrk for
``--duration`` at ``--connections``, let the server drain, then count in the database: messages
stored, distinct ids (nothing doubled), and stored = batches acknowledged + batches in flight at
wrk's cut-off (nothing lost).

    .venv/bin/python bench/webhook_ingest.py --configs 3x1 --batch 50 --duration 20
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (  # noqa: E402
    BENCH,
    DEFAULT_DB,
    DUALGRID,
    OUT,
    ROOT,
    Server,
    bench_env,
    children_cpu,
    cpu_snapshot,
    cpu_split,
    cpu_ticks,
    ensure_database,
    machine,
    machine_busy,
    psql,
)

SLUG = "bench"
SECRET = "bench-secret-not-for-production"

CHATTER = [
    "早上好",
    "收到",
    "好的，谢谢网格员",
    "今天几点停水？",
    "通知已收到",
    "谁家的快递放在门口了",
    "哈哈哈",
    "明天社区有义诊吗",
    "大家注意天气降温",
    "[表情]",
    "晚上好",
    "楼下菜市场几点关门",
    "谢谢提醒",
    "周末带娃去公园",
    "收到，马上转给家里老人",
    "辛苦了",
    "今天太阳真好",
]
ACTIONABLE = [
    "9社两兄弟因为堰塘用水又打起来了，快来人",
    "我家老人早上出门到现在没回来，穿蓝色外套，大家帮忙看看",
    "小区下水管堵塞，一楼屋里已经灌水了",
    "有人在小区门口推销保健品，骗老人交钱，大家小心",
    "3栋楼道里堆满杂物，消防通道被堵",
    "河边护栏坏了，小孩经常在那里玩水，很危险",
    "隔壁装修从早上七点吵到晚上十点",
    "路灯坏了一个星期了，晚上黑漆漆的",
]


def make_bodies(path: Path, requests: int, batch: int, groups: list[str], run: str) -> int:
    rnd = random.Random(0)
    now = int(time.time())
    with path.open("w") as out:
        for r in range(requests):
            messages = []
            for i in range(batch):
                text = rnd.choice(ACTIONABLE) if rnd.random() < 0.1 else rnd.choice(CHATTER)
                messages.append(
                    {
                        "message_id": f"{run}-{r}-{i}",
                        "group_id": rnd.choice(groups),
                        "sender": {"id": f"u{rnd.randrange(5000)}", "name": f"居民{rnd.randrange(5000)}"},
                        "type": "text",
                        "text": text,
                        "sent_at": datetime.fromtimestamp(now - rnd.randrange(60), tz=UTC).isoformat(),
                    }
                )
            body = json.dumps({"messages": messages}, ensure_ascii=False, separators=(",", ":"))
            ts = str(now)
            sig = (
                "sha256="
                + hmac.new(SECRET.encode(), ts.encode() + b"." + body.encode(), hashlib.sha256).hexdigest()
            )
            out.write(f"{ts}\t{sig}\t{body}\n")
    return requests * batch


def setup_connector(db: str) -> list[str]:
    code = (
        "from dualgrid.watch.models import Connector;"
        f"c, _ = Connector.objects.update_or_create(slug='{SLUG}', defaults=dict(name='bench', kind='webhook',"
        f" platform='wechat', secret='{SECRET}', active=True))"
    )
    subprocess.run([DUALGRID, "shell", "-c", code], env=bench_env(db), cwd=ROOT, check=True)
    groups = psql(
        "SELECT external_id FROM places_chatgroup WHERE platform = 'wechat' AND grid_id IS NOT NULL", db=db
    )
    return groups.split()


def run_wrk(port: int, bodies: Path, threads: int, conns: int, secs: int) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{secs}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "ingest_messages.lua"),
        f"http://127.0.0.1:{port}/watch/hooks/{SLUG}/messages",
        "--",
        str(bodies),
        str(threads),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 120)
    stats: dict = {"raw": res.stdout + res.stderr}
    for line in res.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].startswith(("responses_", "latency_", "duration", "exhausted")):
            stats[parts[0]] = float(parts[1])
        if line.startswith("first_error"):
            stats["first_error"] = line
    return stats


def settle(db: str, run: str, timeout: float = 60) -> int:
    last, deadline = -1, time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.5)
        n = int(psql(f"SELECT count(*) FROM watch_groupmessage WHERE external_id LIKE '{run}-%'", db=db))
        if n == last:
            return n
        last = n
    return last


def one(args: argparse.Namespace, workers: int, threads: int, groups: list[str]) -> dict:
    tag = f"w{workers}t{threads}"
    run = f"r{int(time.time())}{tag}"
    bodies = OUT / f"ingest-bodies-{tag}.tsv"
    with Server(args.port, workers, threads, db=args.db, log=OUT / f"serve-ingest-{tag}.log") as srv:
        # Warm-up with its own ids (every worker loads code, triage rules and DB connections).
        warm = OUT / "ingest-warm.tsv"
        make_bodies(warm, 200, args.batch, groups, run + "w")
        run_wrk(args.port, warm, args.wrk_threads, args.connections, 3)
        settle(args.db, run + "w")
        sent_total = make_bodies(bodies, args.requests, args.batch, groups, run)
        pids = srv.pids()
        busy0, cpu0, t0, snap0, wrk0 = (
            machine_busy(),
            cpu_ticks(pids),
            time.monotonic(),
            cpu_snapshot(),
            children_cpu(),
        )
        stats = run_wrk(args.port, bodies, args.wrk_threads, args.connections, args.duration)
        busy1, cpu1, t1, snap1, wrk1 = (
            machine_busy(),
            cpu_ticks(pids),
            time.monotonic(),
            cpu_snapshot(),
            children_cpu(),
        )
        stored = settle(args.db, run)
    distinct = int(
        psql(
            f"SELECT count(DISTINCT external_id) FROM watch_groupmessage WHERE external_id LIKE '{run}-%'",
            db=args.db,
        )
    )
    flagged = int(
        psql(
            f"SELECT count(*) FROM watch_groupmessage WHERE external_id LIKE '{run}-%' AND state IN ('flagged','linked')",
            db=args.db,
        )
    )
    acked_msgs = int(stats.get("responses_2xx", 0)) * args.batch
    in_flight = stored - acked_msgs
    secs = stats.get("duration_s", args.duration)
    ok = (
        distinct == stored
        and 0 <= in_flight <= args.connections * args.batch
        and stats.get("responses_4xx", 0) == 0
        and stats.get("responses_5xx", 0) == 0
        and stats.get("exhausted", 0) == 0
    )
    result = {
        "config": tag,
        "batch": args.batch,
        "connections": args.connections,
        "duration_s": secs,
        "messages_prepared": sent_total,
        "messages_stored": stored,
        "messages_acked": acked_msgs,
        "in_flight_at_cutoff": in_flight,
        "doubled": stored - distinct,
        "flagged_or_linked": flagged,
        "messages_per_s": round(acked_msgs / secs, 1),
        "requests_per_s": round(stats.get("responses_2xx", 0) / secs, 1),
        "cores_used": {
            "server_all": round((cpu1 - cpu0) / (t1 - t0), 2),
            **cpu_split(snap0, snap1, set(pids), t1 - t0),
            "wrk": round((wrk1 - wrk0) / (t1 - t0), 2),
            "machine_busy": round((busy1 - busy0) / (t1 - t0), 2),
        },
        **{k: v for k, v in stats.items() if k != "raw"},
        "verified": ok,
    }
    (OUT / f"wrk-ingest-{tag}.txt").write_text(stats["raw"])
    print(
        f"{tag} batch {args.batch}: {result['messages_per_s']} messages/s ({result['requests_per_s']} req/s)"
        f"  p50 {stats.get('latency_p50_ms')} p95 {stats.get('latency_p95_ms')} p99 {stats.get('latency_p99_ms')} ms"
        f"  stored {stored} = acked {acked_msgs} + in flight {in_flight}; doubled {stored - distinct};"
        f" flagged {flagged}  cores {result['cores_used']}  {'VERIFIED' if ok else 'MISMATCH'}",
        flush=True,
    )
    if stats.get("first_error"):
        print("  " + stats["first_error"], flush=True)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--port", type=int, default=8899)
    p.add_argument("--configs", default="3x1")
    p.add_argument("--batch", type=int, default=50)
    p.add_argument(
        "--requests", type=int, default=3000, help="signed batches prepared (each sent at most once)"
    )
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=OUT / "webhook_ingest.json")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_database(args.db)
    groups = setup_connector(args.db)
    if not groups:
        raise SystemExit("no chat groups with a grid in the bench database: run `dualgrid demo` there")
    results = [one(args, *(int(x) for x in cfg.split("x")), groups) for cfg in args.configs.split(",")]
    report = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(), "results": results}
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if all(r["verified"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
