"""Shared helpers of the triage benches: third-party data is read at run time from ../shared/data.

Nothing read here is copied into the repository; bench/labels/*.csv hold only (file, record id) → label.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DUALGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
LABELS = REPO / "bench" / "labels" / "actionable.csv"
# The fresh test set, labelled after the old set had been looked at (see docs/PERFORMANCE.md).
LABELS_TEST2 = REPO / "bench" / "labels" / "actionable_test2.csv"
# In-domain training rows standing in for a district's patrol-feed decisions (never a test set).
LABELS_TRAIN3 = REPO / "bench" / "labels" / "actionable_train3.csv"
OUT = REPO / "bench" / "out"


def django_setup() -> None:
    """Settings with a throw-away VAR_DIR: the benches never touch a real database or model store."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    os.environ.setdefault("DUALGRID_VAR_DIR", tempfile.mkdtemp(prefix="triage-bench-"))
    import django

    django.setup()


@cache
def records(file: str) -> dict[str, dict[str, Any]]:
    path = SHARED / file
    with path.open(encoding="utf-8") as f:
        return {r["id"]: r for r in (json.loads(line) for line in f if line.strip())}


def text_of(file: str, record: dict[str, Any]) -> str:
    """The text a label refers to: the title for tipdm2020 replies (short statements), else the text."""
    if file.startswith("tipdm2020/replies"):
        return str(record.get("title") or "")
    return str(record.get("text") or "")


def labelled_rows(path: Path = LABELS) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rec = records(row["file"])[row["id"]]
            # An optional "field" column names the part of the record labelled (tipdm2020: title or text).
            field = row.get("field") or ""
            text = str(rec.get(field) or "") if field and field != "title" else text_of(row["file"], rec)
            rows.append(
                {
                    **row,
                    "text": text,
                    "actionable": row["actionable"] == "1",
                    "urgent": row["urgent"] == "1",
                    "source": row["file"].split("/")[0],
                }
            )
    return rows


TRAIN_ROUNDS = (3, 4)  # the 1,400 decisions of the earlier measurements; 5 and 6 came later


def train_round_rows(rounds: tuple[int, ...] = TRAIN_ROUNDS) -> list[dict[str, Any]]:
    """The rows of actionable_train{N}.csv for each round N (never the fresh test set)."""
    rows: list[dict[str, Any]] = []
    for n in rounds:
        rows += labelled_rows(LABELS_TRAIN3.with_name(f"actionable_train{n}.csv"))
    return rows


def parse_rounds(text: str) -> tuple[int, ...]:
    """``--train-rounds 3,4,5,6`` → (3, 4, 5, 6)."""
    return tuple(int(x) for x in text.split(",") if x.strip())


def training_decisions(rounds: tuple[int, ...] = TRAIN_ROUNDS) -> list[dict[str, Any]]:
    """The stand-ins for a district's patrol-feed decisions: the old 400 rows plus
    actionable_train{N}.csv of each round (3, 4 → 1,400 rows; 3–6 → 2,400), never the fresh test set."""
    return labelled_rows(LABELS) + train_round_rows(rounds)


def scored_decisions(rounds: tuple[int, ...] = TRAIN_ROUNDS) -> dict[str, Any]:
    """``training_decisions`` with what the CV benches need (after ``django_setup``): texts, gold
    ``y`` (numpy bool), token documents, the shipped rules and their score, urgent flag and hits."""
    import numpy as np

    from dualgrid.triage import engine
    from dualgrid.triage.features import to_doc
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    rows = training_decisions(rounds)
    texts = [r["text"] for r in rows]
    rules = RuleSet.from_specs(DEFAULT_RULES)
    pres = [engine._pre(t, rules) for t in texts]
    return {
        "rows": rows,
        "texts": texts,
        "y": np.array([bool(r["actionable"]) for r in rows]),
        "docs": [to_doc(t) for t in texts],
        "rules": rules,
        "pres": pres,
        "score": np.array([p.score for p in pres]),
        "urgent": np.array([p.urgent for p in pres]),
    }


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import sklearn

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
    }
