"""Draw the rows of a second fresh actionable test set (bench/labels/actionable_test3.csv) — ids only.

    .venv/bin/python bench/triage_test3_sample.py               # the drawn (file, id, field) rows
    .venv/bin/python bench/triage_test3_sample.py --show        # with their texts, to the terminal only

The first fresh set (actionable_test2.csv, 315 rows, 54 actionable) is small: one row moves F1 by about
0.01 and its 95 % interval is about ±0.06. This set has the same strata, twice as many rows of each, and
is never a record of any earlier label file (the old set, test2, or the training rounds train3–6), so the
two fresh sets together are 945 rows no rule or model choice has seen. Rows are the smallest
SHA-256("test3:" + id) per stratum. Texts are read from ../shared/data at run time and never written.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import LABELS, LABELS_TEST2, LABELS_TRAIN3  # noqa: E402
from triage_test2_sample import STRATA as TEST2_STRATA  # noqa: E402
from triage_test2_sample import draw_strata, show_cli  # noqa: E402

STRATA = [(file, fld, rule, 2 * n) for file, fld, rule, n in TEST2_STRATA]


def draw() -> list[tuple[str, str, str]]:
    earlier = [LABELS, LABELS_TEST2] + [
        LABELS_TRAIN3.with_name(f"actionable_train{r}.csv") for r in range(3, 7)
    ]
    return draw_strata(STRATA, "test3", earlier)


def main() -> None:
    show_cli(__doc__ or "", lambda _args: draw())


if __name__ == "__main__":
    main()
