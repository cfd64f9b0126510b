"""Triage speed, model load time and memory (issue #4).

    .venv/bin/python bench/triage_speed.py [--n 20000] [--batch 1000]

Trains two throw-away models in a temporary folder (a 7-class category model on
tipdm2020/train_segmented.jsonl and an actionability model on weak labels, as bench/triage_actionable.py
does), then, each in a fresh process: (1) load time of each model (``learn.load``: runtime.npz, or the
pipeline for code before it) and of the word dictionary; (2) triage_many over N short real messages
(SMS, chit-chat, reviews, spam, titles from ../shared/data) in batches, rules alone and rules + both
models; (3) peak RSS of that process. Each time is given as wall-clock seconds and as CPU seconds of
the measuring process (``*_cpu_s``, ``messages_per_cpu_second``): the CPU figures are steadier when
other work shares the machine's two cores. Results also go to bench/out/triage_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import OUT, SHARED, django_setup, machine, records, text_of  # noqa: E402

SOURCES = [
    "nus_sms_zh/nus_sms_zh.jsonl",
    "lccc_toy/lccc_toy.jsonl",
    "waimai_10k/waimai_10k.jsonl",
    "weibo_emotion7/weibo_emotion7.jsonl",
    "spam80w_sms/spam80w_sms.jsonl",
    "tipdm2020/replies.jsonl",
]


def messages(n: int) -> list[str]:
    pool: list[str] = []
    for file in SOURCES:
        pool.extend(text_of(file, r) for r in records(file).values())
    pool = [t for t in pool if t]
    out = (pool * (n // len(pool) + 1))[:n]
    return out


def rss_mb() -> tuple[float, float]:
    now = peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return round(now, 1), round(peak, 1)


def child(args: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    django_setup()
    from dualgrid.triage import learn
    from dualgrid.triage.engine import triage_with
    from dualgrid.triage.features import warm_up
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    texts = json.loads(Path(args.messages).read_text(encoding="utf-8"))
    result: dict[str, Any] = {"mode": args.child, "rss_after_setup_mb": rss_mb()[0]}
    cat = act = None
    if args.child == "models":  # rules alone never tokenise: jieba is loaded only for the models
        t, c = time.perf_counter(), time.process_time()
        warm_up()
        result["jieba_load_s"] = round(time.perf_counter() - t, 3)
        result["jieba_load_cpu_s"] = round(time.process_time() - c, 3)
        result["rss_after_jieba_mb"] = rss_mb()[0]
        t, c = time.perf_counter(), time.process_time()
        cat = learn.load(args.category)
        result["category_load_s"] = round(time.perf_counter() - t, 3)
        result["category_load_cpu_s"] = round(time.process_time() - c, 3)
        result["rss_after_category_model_mb"] = rss_mb()[0]
        t, c = time.perf_counter(), time.process_time()
        act = learn.load(args.actionable)
        result["actionable_load_s"] = round(time.perf_counter() - t, 3)
        result["actionable_load_cpu_s"] = round(time.process_time() - c, 3)
        result["rss_after_both_models_mb"] = rss_mb()[0]
    rules = RuleSet.from_specs(DEFAULT_RULES)
    result["n"] = len(texts)
    result["median_chars"] = sorted(len(t) for t in texts)[len(texts) // 2]
    triage_with(texts[:200], rules=rules, category=cat, actionable=act)  # warm
    t, c = time.perf_counter(), time.process_time()
    flagged = 0
    for i in range(0, len(texts), args.batch):
        flagged += sum(
            r.actionable
            for r in triage_with(texts[i : i + args.batch], rules=rules, category=cat, actionable=act)
        )
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    result.update(
        seconds=round(seconds, 2),
        messages_per_second=round(len(texts) / seconds),
        # CPU time of this process: what the code costs, less disturbed by other work on the machine
        cpu_seconds=round(cpu, 2),
        messages_per_cpu_second=round(len(texts) / cpu),
        flagged_share=round(flagged / len(texts), 3),
        rss_mb=rss_mb()[0],
        peak_rss_mb=rss_mb()[1],
    )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--child", choices=["rules", "models"], help=argparse.SUPPRESS)
    parser.add_argument("--category", help=argparse.SUPPRESS)
    parser.add_argument("--actionable", help=argparse.SUPPRESS)
    parser.add_argument("--messages", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=OUT / "triage_speed.json")
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    django_setup()
    from triage_actionable import weak_rows

    from dualgrid.triage import learn
    from dualgrid.triage.features import to_doc

    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        cat = learn.train_file(
            SHARED / "tipdm2020" / "train_segmented.jsonl", Path(tmp) / "cat", test_split=0
        )
        report["category_train_s"] = round(time.perf_counter() - t, 1)
        rows = weak_rows(set(), 0)
        t = time.perf_counter()
        act = learn.train(
            [learn.Example(to_doc(x), learn.ACTIONABLE if y else learn.CHATTER) for x, y in rows],
            Path(tmp) / "act",
            task="actionable",
            test_split=0,
        )
        report["actionable_train_s"] = round(time.perf_counter() - t, 1)
        report["model_file_mb"] = {
            "category": round((cat.path / learn.MODEL_FILE).stat().st_size / 2**20, 1),
            "actionable": round((act.path / learn.MODEL_FILE).stat().st_size / 2**20, 1),
        }
        # The messages go to the measuring process as one file: it holds only them, not the source corpora.
        msg_file = Path(tmp) / "messages.json"
        msg_file.write_text(json.dumps(messages(args.n), ensure_ascii=False), encoding="utf-8")
        for mode in ("rules", "models"):
            cmd = [sys.executable, __file__, "--child", mode, "--n", str(args.n), "--batch", str(args.batch)]
            cmd += ["--category", str(cat.path), "--actionable", str(act.path), "--messages", str(msg_file)]
            out = subprocess.run(
                cmd, check=True, capture_output=True, text=True, env=os.environ.copy()
            ).stdout
            run = json.loads(out.strip().splitlines()[-1])
            report["runs"].append(run)
            print(json.dumps(run), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}))


if __name__ == "__main__":
    main()
