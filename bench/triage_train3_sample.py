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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import LABELS, LABELS_TEST2  # noqa: E402
from triage_test2_sample import draw_strata, show_cli  # noqa: E402

# (file, field, filter on the record, how many) — weighted towards the hard, in-domain source.
STRATA: list[tuple[str, str, str, int]] = [
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=help_keyword", 240),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=community_keyword", 160),
    ("covid_weibo_pool/covid_weibo_pool.jsonl", "text", "selection=random", 60),
    ("weibo_yiqing_2022/weibo_yiqing_2022.jsonl", "text", "", 40),
]


def draw(round_: int = 3) -> list[tuple[str, str, str]]:
    """Round 3 excludes the two earlier sets; round N > 3 also every earlier round's file, and every
    fresh test file after test2 (actionable_test3.csv…). Excluding a file drawn later changes no earlier
    round: those files are disjoint from it, so its smallest hashes stay the same."""
    earlier = [LABELS, LABELS_TEST2] + [
        LABELS_TEST2.with_name(f"actionable_train{r}.csv") for r in range(3, round_)
    ]
    earlier += sorted(p for p in LABELS_TEST2.parent.glob("actionable_test*.csv") if p != LABELS_TEST2)
    return draw_strata(STRATA, f"train{round_}", earlier)


def main() -> None:
    show_cli(__doc__ or "", lambda args: draw(args.round), cut=400)


if __name__ == "__main__":
    main()
