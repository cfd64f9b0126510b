"""Actionable vs chatter, and 紧急 recall, on hand-labelled real short texts (issue #4).

    .venv/bin/python bench/triage_actionable.py [--show-errors dev|test] [--seed 0]
    .venv/bin/python bench/triage_actionable.py --fresh     # the fresh test set, actionable_test2.csv
    .venv/bin/python bench/triage_actionable.py --fresh --decisions [--train-rounds 3,4,5,6] [--fresh-sets 2,3]

Labels: bench/labels/actionable.csv — (file, record id) → actionable / kind / urgent, labelled by reading
under the guide in docs/TRIAGE.md; the texts are read at run time from ../shared/data. Rows are split
dev/test by a hash of the id; the shipped rules were tuned while looking at dev only.

Reported, per split: the shipped rules alone; the rules with an actionability model; the model alone.
The model is trained on rows disjoint from the test split: the dev rows' hand labels plus weak labels
by source (tipdm2020 titles = actionable; SMS, chit-chat, emotional Weibo posts, delivery reviews and
non-transfer spam = chatter), never on a labelled row's record.

``--fresh``: the fresh set bench/labels/actionable_test2.csv (315 rows drawn by
bench/triage_test2_sample.py, labelled before any rule was changed for it) is the test set, and every
row of the old set is dev: the model then learns from the weak rows plus all 400 old hand labels, never
from a fresh row's record. Only the totals are printed — no per-row errors, so the set stays unseen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import (  # noqa: E402
    LABELS_TEST2,
    OUT,
    django_setup,
    labelled_rows,
    machine,
    parse_rounds,
    records,
    text_of,
    train_round_rows,
)

WEAK_NEGATIVE = {
    "nus_sms_zh/nus_sms_zh.jsonl": 1000,
    "lccc_toy/lccc_toy.jsonl": 1000,
    "weibo_emotion7/weibo_emotion7.jsonl": 1000,
    "waimai_10k/waimai_10k.jsonl": 1000,
    "spam80w_sms/spam80w_sms.jsonl": 1000,
}


def weak_rows(exclude: set[str], seed: int, covid_random: int = 0) -> list[tuple[str, bool]]:
    rnd = random.Random(seed)
    rows: list[tuple[str, bool]] = []
    if covid_random:  # the pool's uniform "random" picks: news, slogans, commentary (README) → chatter
        pool = [
            r
            for r in records("covid_weibo_pool/covid_weibo_pool.jsonl").values()
            if r["id"] not in exclude and r.get("selection") == "random"
        ]
        rnd.shuffle(pool)
        rows.extend((r["text"], False) for r in pool[:covid_random])
    for rec in records("tipdm2020/replies.jsonl").values():
        if rec["id"] not in exclude and rec.get("title"):
            rows.append((rec["title"], True))
    for file, n in WEAK_NEGATIVE.items():
        pool = [
            r
            for r in records(file).values()
            if r["id"] not in exclude
            and not (file.startswith("spam") and r.get("bucket") == "bank_card_transfer")
        ]
        rnd.shuffle(pool)
        rows.extend((text_of(file, r), False) for r in pool[:n])
    return rows


def metrics(rows: list[dict[str, Any]], results: list[Any]) -> dict[str, Any]:
    tp = sum(1 for r, p in zip(rows, results, strict=True) if r["actionable"] and p.actionable)
    fp = sum(1 for r, p in zip(rows, results, strict=True) if not r["actionable"] and p.actionable)
    fn = sum(1 for r, p in zip(rows, results, strict=True) if r["actionable"] and not p.actionable)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    urgent = [(r, p) for r, p in zip(rows, results, strict=True) if r["urgent"]]
    urgent_hit = sum(1 for r, p in urgent if p.actionable and p.urgency == "urgent")
    flagged_urgent = sum(1 for p in results if p.actionable and p.urgency == "urgent")
    right_urgent = sum(1 for r, p in zip(rows, results, strict=True) if r["urgent"] and p.urgency == "urgent")
    return {
        "n": len(rows),
        "actionable": sum(r["actionable"] for r in rows),
        "urgent": len(urgent),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "urgent_recall": round(urgent_hit / len(urgent), 3) if urgent else None,
        "urgent_precision": round(right_urgent / flagged_urgent, 3) if flagged_urgent else None,
        "flagged_urgent": flagged_urgent,
    }


def decision_models(
    args: Any,
    splits: dict[str, Any],
    rows: list[Any],
    learn: Any,
    triage_with: Any,
    rules: Any,
    no_rules: Any,
) -> dict[str, Any]:
    """``learn.train_actionable`` (the product's training) on hand-labelled in-domain rows standing in for a
    district's patrol-feed decisions (the old 400 plus actionable_train{N}.csv of ``--train-rounds``), with
    the rule weight it learns by cross-validation; with and without the weak rows by source; and a
    learning curve. Every row counts as a decision here, flagged or not; a district only has decisions
    on flagged messages, so these figures are optimistic (bench/triage_feed_sim.py simulates that)."""
    decided = list(splits["dev"]) + train_round_rows(parse_rounds(args.train_rounds))
    # A fixed, label-blind order for the learning curve: a hash of the record id.
    decided.sort(key=lambda r: hashlib.sha256(f"curve:{r['id']}".encode()).hexdigest())
    test = splits["test"]
    texts = [r["text"] for r in test]
    exclude = {r["id"] for r in rows} | {r["id"] for r in decided}
    weak = weak_rows(exclude, args.seed, args.covid_random)
    out: dict[str, Any] = {"decisions_available": len(decided)}
    sizes = [n for n in (250, 500, 1000, 1400, 2000) if n < len(decided)] + [len(decided)]
    for with_weak in (False, True):
        for n in sizes if not with_weak else [len(decided)]:
            train_rows = [(r["text"], r["actionable"], r["urgent"]) for r in decided[:n]] + (
                [(t, y, False) for t, y in weak] if with_weak else []
            )
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                path = learn.train_actionable(
                    train_rows, Path(tmp) / "m", register=False, test_split=0, seed=args.seed
                )
                model = learn.load(path)
            key = f"{n} decisions" + (" + weak rows" if with_weak else "")
            out[key] = {
                "rule_logit": model.meta.get("rule_logit"),
                "rule_logit_f1_cv": model.meta.get("rule_logit_f1"),
                "urgent_threshold": model.meta.get("urgent_threshold"),
                "urgent_n": model.meta.get("urgent_n"),
                "train_seconds": round(time.perf_counter() - t0, 1),
                "rules+model": metrics(test, triage_with(texts, rules=rules, actionable=model)),
                "model_alone": metrics(test, triage_with(texts, rules=no_rules, actionable=model)),
            }
            print(key, out[key]["rule_logit"], out[key]["rules+model"]["f1"], file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--show-errors",
        choices=["dev", "test", "all"],
        help="print the misjudged rows (to the terminal only)",
    )
    parser.add_argument("--out", type=Path, default=OUT / "triage_actionable.json")
    parser.add_argument(
        "--covid-random",
        type=int,
        default=0,
        help="also N weak chatter rows from covid_weibo_pool's random picks (a post-hoc variant, see PERFORMANCE.md)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="test on bench/labels/actionable_test2.csv (all old rows are dev); totals only",
    )
    parser.add_argument(
        "--decisions",
        action="store_true",
        help="also models trained the product's way (train_actionable, learnt rule weight) on the in-domain hand labels",
    )
    parser.add_argument(
        "--fresh-sets",
        default="2",
        help="with --fresh: which actionable_test{N}.csv files are the test set (2 = the first, 315 rows; 2,3 = 940 rows)",
    )
    parser.add_argument(
        "--train-rounds",
        default="3,4",
        help="which actionable_train{N}.csv files join the old 400 rows as decisions (default 3,4; all: 3,4,5,6)",
    )
    args = parser.parse_args()
    if args.fresh and args.show_errors in ("test", "all"):
        parser.error("--fresh never shows the fresh set's errors")
    if args.fresh and args.out == OUT / "triage_actionable.json":
        args.out = OUT / "triage_actionable_fresh.json"

    django_setup()
    from dualgrid.triage import learn
    from dualgrid.triage.engine import triage_with
    from dualgrid.triage.features import to_doc
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    rows = labelled_rows()
    if args.fresh:
        fresh = [
            row
            for n in parse_rounds(args.fresh_sets)
            for row in labelled_rows(LABELS_TEST2.with_name(f"actionable_test{n}.csv"))
        ]
        splits = {"dev": rows, "test": fresh}
        rows = rows + fresh
    else:
        splits = {
            "dev": [r for r in rows if r["split"] == "dev"],
            "test": [r for r in rows if r["split"] == "test"],
        }
    splits["all"] = rows
    rules = RuleSet.from_specs(DEFAULT_RULES)
    no_rules = RuleSet([])

    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "labels": {
            k: dict(Counter((r["source"], r["actionable"]) for r in v).most_common())
            for k, v in splits.items()
            if k != "all"
        },
    }
    report["labels"] = {
        k: {f"{s}:{int(a)}": n for (s, a), n in c.items()} for k, c in report["labels"].items()
    }

    rules_only = {k: metrics(v, triage_with([r["text"] for r in v], rules=rules)) for k, v in splits.items()}
    report["rules"] = rules_only

    t0 = time.perf_counter()
    exclude = {r["id"] for r in rows}
    train_rows = weak_rows(exclude, args.seed, args.covid_random) + [
        (r["text"], r["actionable"]) for r in splits["dev"]
    ]
    examples = [learn.Example(to_doc(t), learn.ACTIONABLE if y else learn.CHATTER) for t, y in train_rows]
    with tempfile.TemporaryDirectory() as tmp:
        model = learn.train(examples, Path(tmp) / "act", task="actionable", test_split=0.2, seed=args.seed)
    report["model"] = {
        "train_rows": len(examples),
        "train_counts": dict(Counter(e.label for e in examples)),
        "held_out_on_training_distribution": {
            k: model.meta["metrics"].get(k) for k in ("macro_f1", "accuracy", "n_test")
        },
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    test = splits["test"]
    texts = [r["text"] for r in test]
    report["rules+model"] = {"test": metrics(test, triage_with(texts, rules=rules, actionable=model))}
    report["model_alone"] = {"test": metrics(test, triage_with(texts, rules=no_rules, actionable=model))}

    if args.decisions:
        report["decisions"] = decision_models(args, splits, rows, learn, triage_with, rules, no_rules)

    print(json.dumps(report, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")

    if args.show_errors:
        chosen = splits[args.show_errors]
        results = triage_with([r["text"] for r in chosen], rules=rules)
        for r, p in zip(chosen, results, strict=True):
            if r["actionable"] != p.actionable or (r["urgent"] and p.urgency != "urgent"):
                gold = f"{'A' if r['actionable'] else '-'}{'U' if r['urgent'] else ''}"
                got = f"{'A' if p.actionable else '-'}{'U' if p.urgency == 'urgent' else ''}"
                print(
                    f"{r['id']}\tgold {gold}\tgot {got}\t{'; '.join(p.reasons)}\t{r['text'][:160]}",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    main()
