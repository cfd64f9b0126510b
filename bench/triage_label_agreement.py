"""How consistent is the hand labelling? A second, blind labelling of 200 training rows (issue #4).

    .venv/bin/python bench/triage_label_agreement.py [--relabel bench/labels/actionable_relabel.csv]

bench/labels/actionable_relabel.csv holds a second labeller's answers for every fifth row of
actionable_train3.csv and actionable_train4.csv (indices 0, 5, … 495 of each round's draw), given under
the same guide (docs/TRIAGE.md) without seeing the first labels or any prediction. Reported: raw
agreement and Cohen's kappa on "actionable", the F1 one labelling scores against the other (symmetric
in the two), agreement on 紧急 and on the kind of the rows both call actionable. The F1 between two
careful readings of the same rows is a ceiling for what any classifier can be measured at with these
labels: a model can't agree with the labels more than the labellers agree with each other.
Only ids and labels are read from the CSVs; texts are never printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import LABELS_TRAIN3, OUT, REPO  # noqa: E402


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def kappa(a: list[bool], b: list[bool]) -> float:
    """Cohen's kappa of two binary labellings of the same rows."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def f1(gold: list[bool], other: list[bool]) -> float:
    tp = sum(g and o for g, o in zip(gold, other, strict=True))
    fp = sum(o and not g for g, o in zip(gold, other, strict=True))
    fn = sum(g and not o for g, o in zip(gold, other, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def agreement(first: list[dict[str, str]], second: list[dict[str, str]]) -> dict[str, Any]:
    a = [r["actionable"] == "1" for r in first]
    b = [r["actionable"] == "1" for r in second]
    ua = [r["urgent"] == "1" for r in first]
    ub = [r["urgent"] == "1" for r in second]
    both = [
        (x["kind"], y["kind"])
        for x, y in zip(first, second, strict=True)
        if x["actionable"] == y["actionable"] == "1"
    ]
    return {
        "rows": len(a),
        "actionable_first": sum(a),
        "actionable_second": sum(b),
        "both_actionable": sum(x and y for x, y in zip(a, b, strict=True)),
        "raw_agreement": round(sum(x == y for x, y in zip(a, b, strict=True)) / len(a), 3),
        "kappa": round(kappa(a, b), 3),
        "f1_between": round(f1(a, b), 3),
        "urgent_first": sum(ua),
        "urgent_second": sum(ub),
        "urgent_both": sum(x and y for x, y in zip(ua, ub, strict=True)),
        "kind_agreement_when_both_actionable": round(sum(x == y for x, y in both) / len(both), 3)
        if both
        else None,
        "disagreements": dict(
            Counter(
                f"first {x['actionable']}/{x['kind'] or '-'} → second {y['actionable']}/{y['kind'] or '-'}"
                for x, y in zip(first, second, strict=True)
                if x["actionable"] != y["actionable"]
            ).most_common()
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--relabel", type=Path, default=REPO / "bench" / "labels" / "actionable_relabel.csv")
    parser.add_argument("--out", type=Path, default=OUT / "triage_label_agreement.json")
    args = parser.parse_args()
    second = _rows(args.relabel)
    report: dict[str, Any] = {}
    pairs_all: tuple[list[dict[str, str]], list[dict[str, str]]] = ([], [])
    for rnd in sorted({r["round"] for r in second.values()}):
        first = _rows(LABELS_TRAIN3.with_name(f"actionable_train{rnd}.csv"))
        ids = [i for i, r in second.items() if r["round"] == rnd]
        missing = [i for i in ids if i not in first]
        if missing:
            raise SystemExit(
                f"{len(missing)} relabelled ids of round {rnd} are not in actionable_train{rnd}.csv"
            )
        f, s = [first[i] for i in ids], [second[i] for i in ids]
        report[f"train{rnd}"] = agreement(f, s)
        pairs_all[0].extend(f)
        pairs_all[1].extend(s)
    report["all"] = agreement(*pairs_all)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
