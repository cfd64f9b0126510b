"""How should the rules and the actionability model be combined? Cross-validation on the training
decisions only (the old 400 rows plus actionable_train3/4.csv, 1,400 in-domain rows, or with
``--train-rounds 3,4,5,6`` also train5/6, 2,400 rows); the fresh test set (actionable_test2.csv) is never read.

    .venv/bin/python bench/triage_stack_cv.py [--folds 5] [--seed 0] [--train-rounds 3,4,5,6]

Base model: ``learn.build_pipeline`` fitted on the decisions of the other folds (out-of-fold p for
every row, as ``learn.learn_rule_weight`` does). Then each combination's free parameters are chosen on
K−1 outer folds of those out-of-fold values and applied to the K-th, so every F1 below is for rows the
choice never saw. An urgent rule always flags its message (the product never lets a model silence a
cry for help), in every combination.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import django_setup, parse_rounds, training_decisions  # noqa: E402


def f1_of(said: list[bool], gold: list[bool]) -> tuple[float, int, int, int]:
    tp = sum(s and g for s, g in zip(said, gold, strict=True))
    fp = sum(s and not g for s, g in zip(said, gold, strict=True))
    fn = sum(g and not s for s, g in zip(said, gold, strict=True))
    return (2 * tp / (2 * tp + fp + fn) if tp else 0.0), tp, fp, fn


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--train-rounds",
        default="3,4",
        help="actionable_train{N}.csv files beside the old 400 (3,4,5,6: 2,400 rows)",
    )
    parser.add_argument(
        "--extra-weights",
        default="0,0.25,0.5",
        help="weights below engine.RULE_LOGIT_CHOICES for the 'extended choices' strategy",
    )
    args = parser.parse_args()
    django_setup()
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from dualgrid.triage import engine, learn
    from dualgrid.triage.features import to_doc
    from dualgrid.triage.rules import DEFAULT_RULES, RuleSet

    rows = training_decisions(parse_rounds(args.train_rounds))
    rows.sort(key=lambda r: hashlib.sha256(f"stack:{r['id']}".encode()).hexdigest())
    texts = [r["text"] for r in rows]
    gold = [bool(r["actionable"]) for r in rows]
    docs = [to_doc(t) for t in texts]
    labels = [learn.ACTIONABLE if g else learn.CHATTER for g in gold]
    rules = RuleSet.from_specs(DEFAULT_RULES)
    pres = [engine._pre(t, rules) for t in texts]
    kinds = sorted({h.rule.kind for p in pres for h in p.positive})
    rule_names = sorted({h.rule.name for p in pres for h in p.positive})

    # out-of-fold model probabilities
    p = np.zeros(len(rows))
    inner = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for tr, te in inner.split(docs, labels):
        pipe = learn.build_pipeline(n_docs=len(tr), min_class=min(Counter(labels[i] for i in tr).values()))
        pipe.fit([docs[i] for i in tr], [labels[i] for i in tr])
        p[te] = learn.probabilities(pipe, [docs[i] for i in te])[
            :, list(pipe.classes_).index(learn.ACTIONABLE)
        ]
    z_model = np.clip([engine._logit(x) for x in p], -engine.MODEL_LOGIT_CLIP, engine.MODEL_LOGIT_CLIP)
    score = np.array([pr.score for pr in pres])
    urgent = np.array([pr.urgent for pr in pres])
    strong = np.array([sum(h.rule.weight for h in pr.positive if h.rule.weight >= 0.6) for pr in pres])
    weak = np.array([sum(h.rule.weight for h in pr.positive if h.rule.weight < 0.6) for pr in pres])
    by_kind = np.array(
        [[sum(h.rule.weight for h in pr.positive if h.rule.kind == k) for k in kinds] for pr in pres]
    )
    by_rule = np.array(
        [[sum(h.rule.weight for h in pr.positive if h.rule.name == n) for n in rule_names] for pr in pres]
    )
    length = np.array([math.log1p(len(t)) for t in texts])
    y = np.array(gold)
    gold_urgent = np.array([bool(r["urgent"]) for r in rows])

    def decide_linear(z: np.ndarray, b: float = 0.0) -> np.ndarray:
        return urgent | (z + b > 0)

    def grid_choice(fit: np.ndarray, make: Any, grid: list[Any]) -> Any:
        best = None
        for g in grid:
            f = f1_of(list(make(g)[fit]), list(y[fit]))[0]
            if best is None or f > best[0] + 1e-9:
                best = (f, g)
        return best[1]  # type: ignore[index]

    outer = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed + 1)
    strategies: dict[str, np.ndarray] = {
        k: np.zeros(len(rows), dtype=bool)
        for k in (
            "rules alone",
            "model alone (+urgent)",
            "current: w from choices",
            "w from extended choices",
            "w and threshold",
            "LR: model, score, urgent",
            "LR: model, strong, weak, length",
            "LR: model, per-kind",
            "LR: model, per-rule (C chosen)",
            "urgent needs model p >= q (no 紧急 lost on the fit folds)",
        )
    }
    chosen: dict[str, list[Any]] = {k: [] for k in strategies}
    W = list(engine.RULE_LOGIT_CHOICES)
    W_EXT = sorted({float(x) for x in args.extra_weights.split(",") if x.strip()} | set(W))
    B = [x / 4 for x in range(-8, 9)]
    Q = [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]

    def gated(w: float, q: float) -> np.ndarray:
        return (urgent & (p >= q)) | (z_model + w * score > 0)

    for fit_idx, _held_out in outer.split(docs, labels):
        fit = np.zeros(len(rows), dtype=bool)
        fit[fit_idx] = True
        test = ~fit
        strategies["rules alone"][test] = (urgent | (score >= engine.RULES_THRESHOLD))[test]
        strategies["model alone (+urgent)"][test] = decide_linear(z_model)[test]
        w = grid_choice(fit, lambda w: decide_linear(z_model + w * score), W)
        chosen["current: w from choices"].append(w)
        strategies["current: w from choices"][test] = decide_linear(z_model + w * score)[test]
        w = grid_choice(fit, lambda w: decide_linear(z_model + w * score), W_EXT)
        chosen["w from extended choices"].append(w)
        strategies["w from extended choices"][test] = decide_linear(z_model + w * score)[test]
        wb = grid_choice(
            fit, lambda g: decide_linear(z_model + g[0] * score, g[1]), [(w, b) for w in W for b in B]
        )
        chosen["w and threshold"].append(wb)
        strategies["w and threshold"][test] = decide_linear(z_model + wb[0] * score, wb[1])[test]
        name = "urgent needs model p >= q (no 紧急 lost on the fit folds)"
        best_g = None
        all_urgent = (urgent & gold_urgent)[fit].sum()
        for w in W:
            for q in Q:
                said = gated(w, q)
                if (said & urgent & gold_urgent)[fit].sum() < all_urgent:
                    continue
                f = f1_of(list(said[fit]), list(y[fit]))[0]
                if best_g is None or f > best_g[0] + 1e-9:
                    best_g = (f, w, q)
        assert best_g is not None
        chosen[name].append(best_g[1:])
        strategies[name][test] = gated(best_g[1], best_g[2])[test]
        for name, X in (
            ("LR: model, score, urgent", np.column_stack([z_model, score, urgent])),
            ("LR: model, strong, weak, length", np.column_stack([z_model, strong, weak, length])),
            ("LR: model, per-kind", np.column_stack([z_model, by_kind])),
        ):
            lr = LogisticRegression(C=1.0, max_iter=1000).fit(X[fit], y[fit])
            z = lr.decision_function(X)
            t = grid_choice(fit, lambda b, z=z: decide_linear(z, b), B)
            chosen[name].append(
                [round(float(c), 2) for c in lr.coef_[0]] + [round(float(lr.intercept_[0]), 2), t]
            )
            strategies[name][test] = decide_linear(z, t)[test]
        # One weight per rule, learnt from the decisions; C and the threshold chosen on the fit folds
        # by an inner split (every other fit row), then refitted on all fit rows.
        name = "LR: model, per-rule (C chosen)"
        X = np.column_stack([z_model, by_rule, length])
        fit_rows = np.flatnonzero(fit)
        a_rows, b_rows = fit_rows[::2], fit_rows[1::2]
        best_c = None
        for c in (0.03, 0.1, 0.3, 1.0):
            lr = LogisticRegression(C=c, max_iter=2000).fit(X[a_rows], y[a_rows])
            z = lr.decision_function(X)
            f = max(f1_of(list(decide_linear(z, b)[b_rows]), list(y[b_rows]))[0] for b in B)
            if best_c is None or f > best_c[0] + 1e-9:
                best_c = (f, c)
        assert best_c is not None
        lr = LogisticRegression(C=best_c[1], max_iter=2000).fit(X[fit], y[fit])
        z = lr.decision_function(X)
        t = grid_choice(fit, lambda b, z=z: decide_linear(z, b), B)
        chosen[name].append((best_c[1], t))
        strategies[name][test] = decide_linear(z, t)[test]
    report: dict[str, Any] = {
        "rows": len(rows),
        "actionable": int(y.sum()),
        "urgent_rule_hits": int(urgent.sum()),
        "kinds": kinds,
    }
    for name, said in strategies.items():
        f, tp, fp, fn = f1_of(list(said), gold)
        report[name] = {"f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn, "chosen": chosen[name]}
        print(f"{name:36s} F1 {f:.3f}  tp {tp} fp {fp} fn {fn}  {chosen[name]}")
    f, tp, fp, fn = f1_of(list(urgent), gold)
    print(f"urgent rule hits alone: tp {tp} fp {fp}")
    for name, said in strategies.items():
        hit = int((said & urgent & gold_urgent).sum())
        report[name]["urgent_recall"] = round(hit / max(1, int(gold_urgent.sum())), 3)
        print(f"{name:36s} 紧急 recall {hit}/{int(gold_urgent.sum())}")
    Path("bench/out").mkdir(exist_ok=True)
    suffix = (
        ""
        if args.train_rounds == "3,4" and args.seed == 0
        else f"_r{args.train_rounds.replace(',', '')}_s{args.seed}"
    )
    Path(f"bench/out/triage_stack_cv{suffix}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=float)
    )


if __name__ == "__main__":
    main()
