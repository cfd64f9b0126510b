"""Draw the rows of the fresh actionable test set (bench/labels/actionable_test2.csv) — ids only.

    .venv/bin/python bench/triage_test2_sample.py            # the drawn (file, id, field) rows
    .venv/bin/python bench/triage_test2_sample.py --show      # with their texts, to the terminal only

Rows are the smallest SHA-256("test2:" + id) per source stratum, never a record of
bench/labels/actionable.csv (the old, already-looked-at set). The texts are read from ../shared/data at
run time and never written anywhere: the labeller reads them on the terminal and writes only
(file, id, field) → labels into the CSV.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import LABELS, records, text_of  # noqa: E402

# (file, field, filter on the record, how many)
STRATA: list[tuple[str, str, str, int]] = [
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=help_keyword", 100),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=community_keyword", 55),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=random", 20),
    ("weibo_yiqing_2022/weibo_yiqing_2022.jsonl", "text", "", 20),
    ("nus_sms_zh/nus_sms_zh.jsonl", "text", "", 20),
    ("lccc_toy/lccc_toy.jsonl", "text", "", 20),
    ("spam80w_sms/spam80w_sms.jsonl", "text", "bucket=bank_card_transfer", 10),
    ("spam80w_sms/spam80w_sms.jsonl", "text", "bucket!=bank_card_transfer", 20),
    ("weibo_emotion7/weibo_emotion7.jsonl", "text", "label~anger|fear|sadness|disgust", 20),
    ("weibo_emotion7/weibo_emotion7.jsonl", "text", "label~optimism|surprise|gratitude", 5),
    ("tipdm2020/replies.jsonl", "title", "", 15),
    ("tipdm2020/replies.jsonl", "text", "", 10),
]


def _keep(record: dict[str, object], rule: str) -> bool:
    if not rule:
        return True
    if "!=" in rule:
        key, value = rule.split("!=")
        return record.get(key) != value
    if "~" in rule:
        key, values = rule.split("~")
        return record.get(key) in values.split("|")
    key, value = rule.split("=")
    return record.get(key) == value


def draw_strata(
    strata: list[tuple[str, str, str, int]], salt: str, exclude: list[Path]
) -> list[tuple[str, str, str]]:
    """(file, id, field) rows: per stratum the smallest SHA-256(salt + ":" + id), never a record of the
    ``exclude`` label files nor one drawn for an earlier stratum."""
    taken: set[str] = set()
    for path in exclude:
        with path.open(encoding="utf-8") as f:
            taken |= {row["id"] for row in csv.DictReader(f)}
    rows: list[tuple[str, str, str]] = []
    for file, fld, rule, n in strata:
        pool = [
            r
            for r in records(file).values()
            if r["id"] not in taken and _keep(r, rule) and str(r.get(fld) or "").strip()
        ]
        pool.sort(key=lambda r: hashlib.sha256(f"{salt}:{r['id']}".encode()).hexdigest())
        for r in pool[:n]:
            taken.add(r["id"])
            rows.append((file, r["id"], fld))
    return rows


def draw() -> list[tuple[str, str, str]]:
    return draw_strata(STRATA, "test2", [LABELS])


def show_cli(
    doc: str, draw_rows: Callable[[argparse.Namespace], list[tuple[str, str, str]]], cut: int = 700
) -> None:
    """The drawn (file, id, field) rows, or with --show their texts (to the terminal only)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", action="store_true", help="print the texts (terminal only)")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=10**6)
    parser.add_argument("--cut", type=int, default=cut, help="characters shown per text")
    parser.add_argument("--round", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for i, (file, rid, fld) in enumerate(draw_rows(args)):
        if i < args.start or i >= args.start + args.count:
            continue
        if args.show:
            rec = records(file)[rid]
            text = str(rec.get(fld) or "") if fld == "text" else text_of(file, rec)
            print(f"[{i}] {file.split('/')[0]}:{fld} {' '.join(text.split())[: args.cut]}")
        else:
            print(f"{file},{rid},{fld}")


def main() -> None:
    show_cli(__doc__ or "", lambda _args: draw())


if __name__ == "__main__":
    main()
