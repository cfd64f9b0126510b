"""What an urgency model costs the live triage (issue #4): the same 20,000 short real messages as
bench/triage_speed.py, triaged with an actionability model learnt from the 2,400 training decisions, once
with its urgency model and once without it (the same model object, ``urgent`` set to None).

    .venv/bin/python bench/triage_urgency_speed.py [--n 20000] [--rounds 3]

CPU seconds of this process; the texts are read from ../shared/data at run time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import django_setup, training_decisions  # noqa: E402
from triage_speed import messages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    django_setup()
    from dualgrid.triage import learn
    from dualgrid.triage.engine import triage_with
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    rules = RuleSet.from_specs(DEFAULT_RULES)
    rows = [(r["text"], r["actionable"], r["urgent"]) for r in training_decisions((3, 4, 5, 6))]
    texts = messages(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        model = learn.load(learn.train_actionable(rows, Path(tmp) / "m", register=False, test_split=0))
    urgent_model = model.urgent
    assert urgent_model is not None
    for _ in range(args.rounds):
        for label, sub in (("with the urgency model", urgent_model), ("without", None)):
            model.urgent = sub
            t0 = time.process_time()
            for i in range(0, len(texts), 1000):
                triage_with(texts[i : i + 1000], rules=rules, actionable=model)
            cpu = time.process_time() - t0
            print(f"{label:24s} {len(texts) / cpu:8.0f} messages per CPU-second")


if __name__ == "__main__":
    main()
