#!/usr/bin/env python
"""Does the near-duplicate check's place/family rule (``engine._conflict``) cost real repeats?

tipdm2020's replies are real petitions; a citizen who resubmits the same complaint makes a real repeat.
Every pair of a sample of them whose bigram overlap reaches the threshold (0.45) is counted, and how many
of those the rule would separate because the two name different 社/组, buildings, units, numbers, rooms
or families. Counts only; no text is printed or written.

    .venv/bin/python bench/triage_dedup_marks.py [--sample 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import SHARED, django_setup  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sample", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threshold", type=float, default=0.45)
    args = p.parse_args()
    django_setup()
    from dualgrid.triage.engine import _bigrams, _conflict, _overlap, _specifics

    rows = [json.loads(line) for line in (SHARED / "tipdm2020" / "replies.jsonl").open(encoding="utf-8")]
    texts = [(r.get("title", "") + " " + r.get("text", ""))[:300] for r in rows]
    random.Random(args.seed).shuffle(texts)
    texts = texts[: args.sample]
    started = time.perf_counter()
    grams = [_bigrams(t) for t in texts]
    marks = [_specifics(t) for t in texts]
    similar = separated = with_marks = 0
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if _overlap(grams[i], grams[j]) >= args.threshold:
                similar += 1
                with_marks += bool(marks[i] and marks[j])
                separated += bool(marks[i] and _conflict(marks[i], marks[j]))
    print(
        f"{len(texts)} replies, {len(texts) * (len(texts) - 1) // 2:,} pairs: {similar} at ≥ {args.threshold} "
        f"({with_marks} with marks on both sides), {separated} separated by the place/family rule "
        f"({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
