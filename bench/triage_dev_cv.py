"""Tuning harness for actionability on the OLD hand-labelled rows only (bench/labels/actionable.csv).

    .venv/bin/python bench/triage_dev_cv.py [--folds 5] [--rule-logit 2.5] [--show-errors]

The fresh test set (actionable_test2.csv) is never read here, except to keep its records out of the
model's weak training rows. Rules alone are scored on all 400 old rows (they have no training step);
rules + model by K-fold cross-validation: each fold's model learns from the weak rows plus the other
folds' hand labels and judges the held-out fold, so the model's number is not its own training data.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_actionable import metrics, weak_rows  # noqa: E402
from triage_data import LABELS_TEST2, LABELS_TRAIN3, django_setup, labelled_rows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rule-logit", type=float, help="override engine.RULE_LOGIT")
    parser.add_argument("--clip", type=float, help="override engine.MODEL_LOGIT_CLIP")
    parser.add_argument(
        "--covid-random", type=int, default=0, help="weak chatter rows from the pool's random picks"
    )
    parser.add_argument("--hand-weight", type=int, default=1, help="repeat each hand-labelled row N times")
    parser.add_argument("--show-errors", action="store_true", help="print the misjudged old rows (terminal)")
    parser.add_argument(
        "--with-train",
        default="",
        help="also these in-domain training sets, e.g. 3,4 = bench/labels/actionable_train3.csv and …4.csv",
    )
    parser.add_argument(
        "--weak",
        type=float,
        default=1.0,
        help="fraction of the weak rows by source to keep (0 = hand labels only)",
    )
    args = parser.parse_args()

    django_setup()
    from dualgrid.triage import engine, learn
    from dualgrid.triage.engine import triage_with
    from dualgrid.triage.features import to_doc
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    if args.rule_logit is not None:
        engine.RULE_LOGIT = args.rule_logit
    if args.clip is not None:
        engine.MODEL_LOGIT_CLIP = args.clip
    rows = labelled_rows()
    for n in filter(None, args.with_train.split(",")):
        rows += labelled_rows(LABELS_TRAIN3.with_name(f"actionable_train{n}.csv"))
    with LABELS_TEST2.open(encoding="utf-8") as f:
        fresh_ids = {r["id"] for r in csv.DictReader(f)}
    rules = RuleSet.from_specs(DEFAULT_RULES)
    texts = [r["text"] for r in rows]
    report: dict[str, Any] = {"rules": metrics(rows, triage_with(texts, rules=rules))}

    weak = weak_rows({r["id"] for r in rows} | fresh_ids, args.seed, args.covid_random)
    if args.weak < 1.0:
        weak = [w for i, w in enumerate(weak) if (i * 7919 % 1000) < args.weak * 1000]
    weak_examples = [learn.Example(to_doc(t), learn.ACTIONABLE if y else learn.CHATTER) for t, y in weak]

    def fold(r: dict[str, Any]) -> int:
        return int(hashlib.sha256(f"cv:{r['id']}".encode()).hexdigest(), 16) % args.folds

    results: list[Any] = [None] * len(rows)
    alone: list[Any] = [None] * len(rows)
    no_rules = RuleSet([])
    for k in range(args.folds):
        train = [
            learn.Example(to_doc(r["text"]), learn.ACTIONABLE if r["actionable"] else learn.CHATTER)
            for r in rows
            if fold(r) != k
        ] * args.hand_weight
        idx = [i for i, r in enumerate(rows) if fold(r) == k]
        with tempfile.TemporaryDirectory() as tmp:
            model = learn.train(weak_examples + train, Path(tmp) / "m", task="actionable", test_split=0)
        for i, res in zip(
            idx, triage_with([texts[i] for i in idx], rules=rules, actionable=model), strict=True
        ):
            results[i] = res
        for i, res in zip(
            idx, triage_with([texts[i] for i in idx], rules=no_rules, actionable=model), strict=True
        ):
            alone[i] = res
    report["rules+model_cv"] = metrics(rows, results)
    report["model_alone_cv"] = metrics(rows, alone)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if args.show_errors:
        for r, p in zip(rows, results, strict=True):
            if r["actionable"] != p.actionable or (r["urgent"] and p.urgency != "urgent"):
                gold = f"{'A' if r['actionable'] else '-'}{'U' if r['urgent'] else ''}"
                got = f"{'A' if p.actionable else '-'}{'U' if p.urgency == 'urgent' else ''}"
                print(
                    f"{r['id']}\tgold {gold}\tgot {got}\t{'; '.join(p.reasons)}\t{r['text'][:140]}",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    main()
