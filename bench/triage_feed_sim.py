"""The patrol feed's own decisions, simulated: what does a model learnt the product's way do? (issue #4)

    .venv/bin/python bench/triage_feed_sim.py [--train-rounds 3,4,5,6] [--fresh-sets 2,3] [--chatter-per-decision 2]

In the product a person judges only the messages the triage *flagged*: those are the decisions
(``history.feed_rows``). The other benches train on every labelled row, which a district never has.
Here the hand-labelled training rows stand in for a district's groups: the shipped rules flag some of
them, and only those become decisions (actionable label = made into a case, else dismissed). Compared:

* ``flagged only`` — the decisions alone (the product before this bench was written);
* ``+ never-flagged as chatter`` — plus never-flagged messages as chatter, up to N per decision
  (``history.feed_rows(chatter_per_decision=N)``); a label-blind hash order stands in for the
  product's draw (at random among the newest never-flagged messages).

Reported for each: F1 and 紧急 recall on the fresh sets, and the share of two whole chatter corpora
(nus_sms_zh SMS, lccc_toy chit-chat; labelled rows left out) flagged — what a grid worker would see in
the feed after activating the model. Texts are read from ../shared/data at run time.
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
from triage_actionable import metrics  # noqa: E402
from triage_data import (  # noqa: E402
    LABELS,
    LABELS_TEST2,
    OUT,
    django_setup,
    labelled_rows,
    machine,
    parse_rounds,
    records,
    training_decisions,
)

CHATTER_FILES = ("nus_sms_zh/nus_sms_zh.jsonl", "lccc_toy/lccc_toy.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train-rounds", default="3,4,5,6")
    parser.add_argument("--fresh-sets", default="2,3")
    parser.add_argument("--chatter-per-decision", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=OUT / "triage_feed_sim.json")
    args = parser.parse_args()
    django_setup()
    from dualgrid.triage import learn
    from dualgrid.triage.engine import triage_with
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    rules = RuleSet.from_specs(DEFAULT_RULES)
    rows = training_decisions(parse_rounds(args.train_rounds))
    said = triage_with([r["text"] for r in rows], rules=rules)
    flagged = [r for r, s in zip(rows, said, strict=True) if s.actionable]
    unflagged = [r for r, s in zip(rows, said, strict=True) if not s.actionable]
    # A label-blind order stands in for the product's random draw among the newest never-flagged messages.
    unflagged.sort(key=lambda r: hashlib.sha256(f"feed:{r['id']}".encode()).hexdigest())
    n_chatter = int(round(args.chatter_per_decision * len(flagged)))
    test = [
        r
        for n in parse_rounds(args.fresh_sets)
        for r in labelled_rows(LABELS_TEST2.with_name(f"actionable_test{n}.csv"))
    ]
    labelled_ids: set[str] = set()
    for path in [LABELS, *LABELS.parent.glob("actionable_*.csv")]:
        with path.open(encoding="utf-8") as f:
            labelled_ids |= {row["id"] for row in csv.DictReader(f)}
    chatter = [
        str(rec.get("text") or "")
        for file in CHATTER_FILES
        for rec in records(file).values()
        if rec["id"] not in labelled_ids and str(rec.get("text") or "").strip()
    ]
    report: dict[str, Any] = {
        "machine": machine(),
        "decisions": len(flagged),
        "decisions_actionable": sum(r["actionable"] for r in flagged),
        "never_flagged": len(unflagged),
        "never_flagged_actionable": sum(r["actionable"] for r in unflagged),
        "chatter_corpus": len(chatter),
        "rules alone": {
            "fresh": metrics(test, triage_with([r["text"] for r in test], rules=rules)),
            "chatter_flagged": sum(x.actionable for x in triage_with(chatter, rules=rules)) / len(chatter),
        },
    }
    variants = {
        "flagged only": [(r["text"], r["actionable"], r["urgent"]) for r in flagged],
        f"+ never-flagged as chatter ({args.chatter_per_decision:g} per decision)": [
            (r["text"], r["actionable"], r["urgent"]) for r in flagged
        ]
        + [(r["text"], False, False) for r in unflagged[:n_chatter]],
    }
    for name, train_rows in variants.items():
        with tempfile.TemporaryDirectory() as tmp:
            model = learn.load(
                learn.train_actionable(train_rows, Path(tmp) / "m", register=False, test_split=0)
            )
            fresh = metrics(test, triage_with([r["text"] for r in test], rules=rules, actionable=model))
            flagged_chatter = sum(x.actionable for x in triage_with(chatter, rules=rules, actionable=model))
        report[name] = {
            "train_rows": len(train_rows),
            "rule_logit": model.meta.get("rule_logit"),
            "fresh": fresh,
            "chatter_flagged": round(flagged_chatter / len(chatter), 4),
        }
        print(
            f"{name:45s} rows {len(train_rows):5d}  w {model.meta.get('rule_logit')}  fresh F1 {fresh['f1']:.3f} "
            f"(P {fresh['precision']:.3f} R {fresh['recall']:.3f}) 紧急 {fresh['urgent_recall']:.2f}  "
            f"chatter flagged {flagged_chatter / len(chatter):.2%}",
            file=sys.stderr,
        )
    print(json.dumps(report, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
