"""Model variants for actionability, cross-validated on the training decisions only (the old 400 rows
plus actionable_train3/4.csv); the fresh test set is never read.

    .venv/bin/python bench/triage_model_cv.py [variant ...]     # ≈ 3 min for all on 2 cores

For each variant and two fold seeds: the out-of-fold F1 of the model alone (at p ≥ 0.5, and at the best
threshold chosen in-sample, so optimistic) and combined with the rules at the best rule weight of
``engine.RULE_LOGIT_CHOICES`` (also in-sample). Variants: the shipped pipeline, C, balanced class
weights, character 1–4 / 2–4-grams, word bigrams, logistic regression.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import django_setup, scored_decisions  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "C=0.3": {"C": 0.3},
    "C=3": {"C": 3.0},
    "balanced": {"cw": "balanced"},
    "chars 1-4": {"ngram": (1, 4)},
    "chars 2-4": {"ngram": (2, 4)},
    "word bigrams": {"words_ngram": True},
    "logreg": {"clf": "lr"},
    "logreg balanced": {"clf": "lr", "cw": "balanced"},
}


def make(
    C: float = 1.0,
    ngram: tuple[int, int] = (1, 3),
    cw: str | None = None,
    words_ngram: bool = False,
    clf: str = "svm",
) -> Any:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    from dualgrid.triage.features import split_words

    if words_ngram:
        words = TfidfVectorizer(
            tokenizer=str.split,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            dtype=np.float32,
        )
    else:
        words = TfidfVectorizer(analyzer=split_words, sublinear_tf=True, dtype=np.float32)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=ngram, min_df=2, sublinear_tf=True, lowercase=False, dtype=np.float32
    )
    if clf == "svm":
        est: Any = CalibratedClassifierCV(
            LinearSVC(C=C, class_weight=cw), cv=3, method="sigmoid", ensemble=False
        )
    else:
        est = LogisticRegression(C=C * 10, class_weight=cw, max_iter=2000)
    return Pipeline([("features", FeatureUnion([("words", words), ("chars", chars)])), ("classifier", est)])


def main() -> None:
    django_setup()
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from dualgrid.triage import engine

    d = scored_decisions()
    rows, y, docs, score, urgent = d["rows"], d["y"], d["docs"], d["score"], d["urgent"]

    def f1(said: Any) -> float:
        tp, fp, fn = (said & y).sum(), (said & ~y).sum(), (~said & y).sum()
        return float(2 * tp / (2 * tp + fp + fn))

    for name in sys.argv[1:] or list(VARIANTS):
        for seed in (0, 1):
            p = np.zeros(len(rows))
            for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(docs, y):
                pipe = make(**VARIANTS[name])
                pipe.fit([docs[i] for i in tr], y[tr])
                p[te] = pipe.predict_proba([docs[i] for i in te])[:, 1]
            z = np.clip([engine._logit(x) for x in p], -engine.MODEL_LOGIT_CLIP, engine.MODEL_LOGIT_CLIP)
            combined = max((f1(urgent | (z + w * score > 0)), w) for w in engine.RULE_LOGIT_CHOICES)
            at_best = max((f1(p >= t), t) for t in np.arange(0.1, 0.9, 0.05))
            print(
                f"{name:16s} seed {seed}: model at 0.5 {f1(p >= 0.5):.3f}, at best threshold "
                f"{at_best[0]:.3f} ({at_best[1]:.2f}), with the rules {combined[0]:.3f} (w = {combined[1]})",
                flush=True,
            )


if __name__ == "__main__":
    main()
