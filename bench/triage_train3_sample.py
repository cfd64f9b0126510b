"""Draw the rows of the in-domain training set (bench/labels/actionable_train3.csv) — ids only.

    .venv/bin/python bench/triage_train3_sample.py                 # the drawn (file, id, field) rows
    .venv/bin/python bench/triage_train3_sample.py --show          # with their texts, to the terminal only
    .venv/bin/python bench/triage_train3_sample.py --round 4 [--show]   # a second batch (actionable_train4.csv)

The set stands in for a district's own patrol-feed decisions (made into a case / dismissed): rows a
grid worker would have decided, labelled by hand under the guide in docs/TRIAGE.md, used only to
*train* the actionability model. Rows are the smallest SHA-256("train3:" + id) per stratum, never a
record of bench/labels/actionable.csv or bench/labels/actionable_test2.csv, so the fresh test set
stays disjoint. Texts are read from ../shared/data at run time and never written anywhere.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import LABELS, LABELS_TEST2, records, text_of  # noqa: E402
from triage_test2_sample import _keep  # noqa: E402

# (file, field, filter on the record, how many) — weighted towards the hard, in-domain source.
STRATA: list[tuple[str, str, str, int]] = [
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=help_keyword", 240),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=community_keyword", 160),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=random", 60),
    ("weibo_yiqing_2022/weibo_yiqing_2022.jsonl", "text", "", 40),
]


def _key(record_id: str, round_: int = 3) -> str:
    return hashlib.sha256(f"train{round_}:{record_id}".encode()).hexdigest()


def draw(round_: int = 3) -> list[tuple[str, str, str]]:
    """Round 3 excludes the two earlier sets; round N > 3 also every earlier round's file."""
    taken: set[str] = set()
    earlier = [LABELS, LABELS_TEST2] + [
        LABELS_TEST2.with_name(f"actionable_train{r}.csv") for r in range(3, round_)
    ]
    for path in earlier:
        with path.open(encoding="utf-8") as f:
            taken |= {row["id"] for row in csv.DictReader(f)}
    rows: list[tuple[str, str, str]] = []
    for file, fld, rule, n in STRATA:
        pool = [
            r
            for r in records(file).values()
            if r["id"] not in taken and _keep(r, rule) and str(r.get(fld) or "").strip()
        ]
        pool.sort(key=lambda r: _key(r["id"], round_))
        for r in pool[:n]:
            taken.add(r["id"])
            rows.append((file, r["id"], fld))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--show", action="store_true", help="print the texts (terminal only)")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=10**6)
    parser.add_argument("--cut", type=int, default=400, help="characters shown per text")
    parser.add_argument("--round", type=int, default=3, help="3 = actionable_train3.csv, 4 = …train4.csv")
    args = parser.parse_args()
    for i, (file, rid, fld) in enumerate(draw(args.round)):
        if i < args.start or i >= args.start + args.count:
            continue
        if args.show:
            rec = records(file)[rid]
            text = str(rec.get(fld) or "") if fld == "text" else text_of(file, rec)
            print(f"[{i}] {' '.join(text.split())[: args.cut]}")
        else:
            print(f"{file},{rid},{fld}")


if __name__ == "__main__":
    main()
