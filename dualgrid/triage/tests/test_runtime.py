"""The compiled model (runtime.py) predicts what the scikit-learn pipeline predicts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dualgrid.triage import learn, runtime
from dualgrid.triage.features import to_doc

from .test_learning import CHATTER, synthetic

TEXTS = [
    "3栋停水好几天了没人管",
    "幸福小区下水道堵了，污水冒出来，谁来管管",
    "广场舞太吵 太吵 太吵 太吵",  # a word several times: tf > 1
    "早上好",
    "哈哈",
    "完全没有见过的词语组合乾坤",  # mostly unknown words
    "a",  # a word shorter than the n-grams
    "",
    "水" * 300 + " 停水 " * 50,  # long, repetitive
    "老街 5单元 半夜装修 喇叭声音大 狗叫声吵 已经一个星期 请尽快处理",
]


def _examples(rows: list[dict[str, str]]) -> list[learn.Example]:
    return [learn.Example(to_doc(r["text"]), r["label"]) for r in rows]


def _same_as_pipeline(model: learn.LoadedModel) -> None:
    assert model.compiled is not None and model.pipeline is not None
    docs = [to_doc(t) for t in TEXTS]
    expected = learn.probabilities(model.pipeline, docs)
    got = model.compiled.predict_proba(docs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert model.compiled.classes == [str(c) for c in model.pipeline.classes_]
    # one at a time gives the same as the batch (segments do not leak into each other)
    for doc, row in zip(docs, got, strict=True):
        np.testing.assert_allclose(model.compiled.predict_proba([doc])[0], row, atol=1e-12)


def test_multiclass_calibrated_model_matches_the_pipeline(tmp_path: Path) -> None:
    rows = synthetic(90) + [{"text": c, "label": "闲聊"} for c in CHATTER * 4]
    model = learn.train(_examples(rows), tmp_path / "m", test_split=0)
    assert len(model.labels) == 4
    _same_as_pipeline(model)


def test_binary_actionable_model_matches_the_pipeline(tmp_path: Path) -> None:
    rows = [{"text": r["text"], "label": learn.ACTIONABLE} for r in synthetic(40)]
    rows += [{"text": c, "label": learn.CHATTER} for c in CHATTER * 5]
    model = learn.train(_examples(rows), tmp_path / "m", task="actionable", test_split=0)
    assert model.compiled is not None and model.compiled.coef.shape[0] == 1
    _same_as_pipeline(model)


def test_uncalibrated_svm_matches_the_pipeline(tmp_path: Path) -> None:
    # A label with one example: no calibration folds, the plain SVM with softmax/sigmoid scores.
    rows = synthetic(30) + [{"text": "路灯坏了", "label": "0301"}]
    model = learn.train(_examples(rows), tmp_path / "m", test_split=0)
    assert model.compiled is not None and model.compiled.calibration is None
    _same_as_pipeline(model)


def test_saved_arrays_load_without_the_pipeline_and_predict_the_same(tmp_path: Path) -> None:
    trained = learn.train(_examples(synthetic(60)), tmp_path / "m", test_split=0)
    assert (trained.path / runtime.RUNTIME_FILE).is_file()
    assert trained.meta["runtime_sha256"]
    loaded = learn.load(trained.path)
    assert loaded.pipeline is None and loaded.compiled is not None
    assert loaded.labels == trained.labels
    docs = [to_doc(t) for t in TEXTS]
    np.testing.assert_allclose(
        loaded.predict_proba(docs), learn.probabilities(trained.pipeline, docs), atol=1e-6
    )
    # numpy arrays only: the file opens with pickles refused
    with np.load(trained.path / runtime.RUNTIME_FILE, allow_pickle=False) as z:
        assert {"coef", "intercept", "words", "chars", "calibration"} <= set(z.files)


def test_an_old_model_folder_is_compiled_in_memory(tmp_path: Path) -> None:
    trained = learn.train(_examples(synthetic(60)), tmp_path / "m", test_split=0)
    (trained.path / runtime.RUNTIME_FILE).unlink()
    old = learn.load(trained.path)
    assert old.pipeline is not None and old.compiled is not None
    _same_as_pipeline(old)


def test_the_word_memo_is_bounded_and_does_not_change_results(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = learn.train(_examples(synthetic(60)), tmp_path / "m", test_split=0)
    assert model.compiled is not None
    docs = [to_doc(t) for t in TEXTS]
    first = model.compiled.predict_proba(docs)
    assert len(model.compiled._memo) > 3
    monkeypatch.setattr(runtime, "MEMO_WORDS", 3)
    fresh = learn.load(model.path).compiled
    assert fresh is not None
    again = fresh.predict_proba(docs)
    assert 0 < len(fresh._memo) <= 3
    np.testing.assert_array_equal(first, again)


def test_char_ngrams_are_those_of_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), lowercase=False).build_analyzer()
    for doc in ["a", "ab", "abc", "水", "停水 了", "幸福小区  下水道\t堵了", "", "x y z", "长长长长长长长"]:
        assert Counter(runtime._char_wb(doc, 1, 3)) == Counter(analyse(doc)), doc
    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False).build_analyzer()
    for doc in ["a", "ab", "停水 了", "幸福小区"]:
        assert Counter(runtime._char_wb(doc, 2, 4)) == Counter(analyse(doc)), doc


def test_other_pipelines_are_not_compiled() -> None:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("features", CountVectorizer()), ("classifier", LogisticRegression())])
    pipe.fit(["停水 了", "早上 好", "下水道 堵 了", "天气 好"], ["a", "b", "a", "b"])
    with pytest.raises(runtime.NotCompilable):
        runtime.compile_pipeline(pipe)


def test_loading_and_predicting_import_no_scikit_learn(tmp_path: Path) -> None:
    """The point of runtime.npz: a process that only predicts never imports scikit-learn or SciPy
    (1.4–3 s and ≈ 130 MB per process before). Checked in a fresh interpreter."""
    import json
    import subprocess
    import sys

    model = learn.train(_examples(synthetic(60)), tmp_path / "m", test_split=0)
    expected = model.predict_proba([to_doc(TEXTS[0])])[0].tolist()
    script = f"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
import django
django.setup()
from dualgrid.triage import learn
from dualgrid.triage.features import to_doc
m = learn.load({str(model.path)!r})
p = m.predict_proba([to_doc({TEXTS[0]!r})])[0].tolist()
print(json.dumps({{"p": p, "loaded": sorted(k for k in sys.modules if k.split(".")[0] in ("sklearn", "scipy", "joblib"))}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[3],
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["loaded"] == []
    np.testing.assert_allclose(result["p"], expected, atol=1e-12)
