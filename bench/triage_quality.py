"""7-class category quality on real citizen messages (issue #4): tipdm2020/train_segmented.jsonl.

    .venv/bin/python bench/triage_quality.py [--cv]      # about 2 minutes on 2 cores (--cv: 5 more)

Stratified 80/20 split with seed 0 (the same split ``dualgrid triage train --test-split 0.2 --seed 0``
makes), macro-F1 and accuracy on the 20 %. The product pipeline (dualgrid/triage/learn.py) first, then
the variants tried on the same split. CPU only, no model download. Results also go to
bench/out/triage_quality.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_data import OUT, SHARED, django_setup, machine  # noqa: E402

DATA = SHARED / "tipdm2020" / "train_segmented.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cv", action="store_true", help="also 5-fold stratified CV of the product pipeline")
    parser.add_argument("--out", type=Path, default=OUT / "triage_quality.json")
    args = parser.parse_args()
    django_setup()

    from scipy.sparse import hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    from dualgrid.triage import learn
    from dualgrid.triage.features import split_words

    examples, sha = learn.read_jsonl(DATA)
    docs = [e.doc for e in examples]
    labels = [e.label for e in examples]
    d_tr, d_te, y_tr, y_te = train_test_split(docs, labels, test_size=0.2, stratify=labels, random_state=0)
    results: list[dict[str, Any]] = []

    def record(name: str, predicted: Any, seconds: float) -> None:
        row = {
            "variant": name,
            "macro_f1": round(float(f1_score(y_te, predicted, average="macro")), 4),
            "accuracy": round(float(accuracy_score(y_te, predicted)), 4),
            "fit_seconds": round(seconds, 1),
        }
        results.append(row)
        print(f"{row['macro_f1']:.4f}  {row['accuracy']:.4f}  {seconds:6.1f}s  {name}", flush=True)

    print("macro-F1  acc   fit     variant")
    t = time.perf_counter()
    product = learn.build_pipeline(n_docs=len(d_tr), min_class=100)
    product.fit(d_tr, y_tr)
    record(
        "PRODUCT: jieba words + char_wb 1-3 (min_df 2), sublinear TF-IDF, LinearSVC C=1 + sigmoid calibration (3-fold)",
        product.predict(d_te),
        time.perf_counter() - t,
    )

    vec = {
        "w1": TfidfVectorizer(analyzer=split_words, sublinear_tf=True),
        "w12": TfidfVectorizer(
            tokenizer=str.split,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
        ),
        "c13wb": TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, lowercase=False
        ),
        "c14": TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, 4),
            min_df=2,
            sublinear_tf=True,
            lowercase=False,
            preprocessor=lambda s: s.replace(" ", ""),
        ),
        "w1_raw_tf": TfidfVectorizer(analyzer=split_words, sublinear_tf=False),
    }
    feats = {k: (v.fit_transform(d_tr), v.transform(d_te)) for k, v in vec.items()}

    def combo(*names: str) -> tuple[Any, Any]:
        return hstack([feats[n][0] for n in names]).tocsr(), hstack([feats[n][1] for n in names]).tocsr()

    def run(name: str, clf: Any, xs: tuple[Any, Any]) -> Any:
        t0 = time.perf_counter()
        clf.fit(xs[0], y_tr)
        record(name, clf.predict(xs[1]), time.perf_counter() - t0)
        return clf

    run(
        "words 1-gram, raw tf, LinearSVC C=1 (the published baseline's shape)",
        LinearSVC(C=1.0),
        feats["w1_raw_tf"],
    )
    run("words 1-gram, sublinear tf, LinearSVC C=1", LinearSVC(C=1.0), feats["w1"])
    run("words 1-2-gram, LinearSVC C=1", LinearSVC(C=1.0), feats["w12"])
    for c in (0.3, 1.0, 2.0, 5.0):
        run(f"char_wb 1-3, LinearSVC C={c}", LinearSVC(C=c), feats["c13wb"])
    run("char 1-4 (no word bounds), LinearSVC C=1", LinearSVC(C=1.0), feats["c14"])
    for c in (0.5, 1.0, 2.0):
        run(f"words + char_wb 1-3, LinearSVC C={c} (uncalibrated)", LinearSVC(C=c), combo("w1", "c13wb"))
    run("words 1-2 + char 1-4, LinearSVC C=0.5", LinearSVC(C=0.5), combo("w12", "c14"))
    run(
        "words + char_wb 1-3, LogisticRegression C=30",
        LogisticRegression(C=30, max_iter=2000),
        combo("w1", "c13wb"),
    )
    run(
        "words + char_wb 1-3, SGD modified_huber alpha=2e-5",
        SGDClassifier(loss="modified_huber", alpha=2e-5, max_iter=50, random_state=0),
        combo("w1", "c13wb"),
    )
    cnb = run("words + char_wb 1-3, ComplementNB alpha=0.3", ComplementNB(alpha=0.3), combo("w1", "c13wb"))
    svm = run(
        "words + char_wb 1-3, calibrated LinearSVC C=1, 5-fold",
        CalibratedClassifierCV(LinearSVC(C=1.0), cv=5),
        combo("w1", "c13wb"),
    )
    xs = combo("w1", "c13wb")
    for w in (0.2, 0.4):
        blend = (1 - w) * svm.predict_proba(xs[1]) + w * cnb.predict_proba(xs[1])
        record(
            f"ensemble: calibrated SVC × {1 - w:.1f} + ComplementNB × {w:.1f} (probabilities)",
            svm.classes_[blend.argmax(axis=1)],
            0.0,
        )

    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "data": str(DATA.relative_to(SHARED)),
        "data_sha256": sha,
        "n_train": len(d_tr),
        "n_test": len(d_te),
        "split": "stratified 80/20, random_state=0",
        "results": results,
    }
    if args.cv:
        scores = []
        for k, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(docs, labels)):
            p = learn.build_pipeline(n_docs=len(tr), min_class=100)
            p.fit([docs[i] for i in tr], [labels[i] for i in tr])
            pred = p.predict([docs[i] for i in te])
            scores.append(float(f1_score([labels[i] for i in te], pred, average="macro")))
            print(f"fold {k}: macro-F1 {scores[-1]:.4f}", flush=True)
        report["product_cv5_macro_f1"] = {
            "mean": round(float(np.mean(scores)), 4),
            "std": round(float(np.std(scores)), 4),
            "folds": [round(s, 4) for s in scores],
        }
        print(f"5-fold CV macro-F1 {np.mean(scores):.4f} ± {np.std(scores):.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
