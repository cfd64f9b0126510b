"""A trained model as plain arrays: prediction without scikit-learn, without unpickling.

Training uses scikit-learn (``learn.build_pipeline``: TF-IDF over words + TF-IDF over character
1–3-grams within words, a linear SVM, sigmoid calibration). What prediction needs of that pipeline is
small and simple: two vocabularies with their idf weights, the SVM's coefficients and intercepts, and
one (a, b) pair per class of the calibration. ``compile_pipeline`` takes those out of a fitted pipeline,
``save``/``load`` keep them in ``runtime.npz`` (numpy arrays only, read with ``allow_pickle=False``),
and ``CompiledModel.predict_proba`` computes the same probabilities as the pipeline's
``predict_proba`` (``test_runtime`` checks them to 1e-6).

Why: importing scikit-learn and SciPy and unpickling the pipeline took 1.4–2.7 s and about 130 MB per
process, most of the model load (docs/PERFORMANCE.md, "Speed, load time, memory"); the arrays load in
a tenth of that. Loading no pickle also means a model folder cannot run code when it is loaded.

The TF-IDF steps follow scikit-learn's ``TfidfVectorizer`` exactly (``sublinear_tf``: 1 + ln tf;
times idf; each vectoriser's row scaled to unit length), and the character n-grams follow its
``char_wb`` analyser (each word padded with one space either side; a word shorter than n counted once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RUNTIME_FILE = "runtime.npz"
FORMAT = 1
_SEP = "\x00"  # never in a token document: normalize() removes control characters
_WHITE_SPACES = re.compile(r"\s\s+")
# Distinct words whose columns are remembered (≈ 150 bytes each); the memo starts again when full.
MEMO_WORDS = 200_000


class NotCompilable(ValueError):
    """A pipeline of another shape than ``learn.build_pipeline`` makes: predict with the pipeline itself."""


@dataclass
class _Vocabulary:
    index: dict[str, int]
    idf: np.ndarray  # float32, as the vectoriser keeps it
    offset: int  # this vectoriser's first column in the joined feature space


def _char_wb(doc: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``_char_wb_ngrams`` (with no preprocessing: ``lowercase=False``), the same
    n-grams in a different order (only their counts matter)."""
    grams: list[str] = []
    for w in _WHITE_SPACES.sub(" ", doc).split():
        w = " " + w + " "
        w_len = len(w)
        for n in range(min_n, max_n + 1):
            if n >= w_len:  # the whole padded word, once, however long n grows
                grams.append(w)
                break
            grams += [w[o : o + n] for o in range(w_len - n + 1)]
    return grams


@dataclass
class CompiledModel:
    classes: list[str]
    words: _Vocabulary
    chars: _Vocabulary
    ngram_range: tuple[int, int]
    coef: np.ndarray  # (n_scores, n_features): 1 row for two classes, one per class else
    intercept: np.ndarray  # (n_scores,)
    calibration: np.ndarray | None  # (n_scores, 2): sigmoid a, b per score; None = uncalibrated SVM

    def __post_init__(self) -> None:
        self.idf = np.concatenate([self.words.idf, self.chars.idf])  # by joined column
        self._memo: dict[str, tuple[int, list[int]]] = {}

    def _word_features(self, word: str) -> tuple[int, list[int]]:
        """A word's own column (−1 if unknown) and the columns of its known character n-grams."""
        c_get, c_off = self.chars.index.get, self.chars.offset
        grams = _char_wb(word, *self.ngram_range)
        return self.words.index.get(word, -1), [j + c_off for g in grams if (j := c_get(g)) is not None]

    def decision(self, docs: Sequence[str]) -> np.ndarray:
        """The SVM's decision values: (n_docs,) for two classes, (n_docs, n_classes) else.

        The char_wb n-grams of a document are those of its words, so the columns are looked up once
        per distinct word and remembered (``_memo``, bounded); counting, TF-IDF, unit length and the
        dot products are numpy over the whole batch.
        """
        n_scores = self.coef.shape[0]
        memo, memo_get = self._memo, self._memo.get
        cols: list[int] = []
        segs: list[int] = []  # one segment per (document, vectoriser): 2i words, 2i+1 characters
        for i, doc in enumerate(docs):
            w_seg, c_seg = 2 * i, 2 * i + 1
            for word in doc.split():
                found = memo_get(word)
                if found is None:
                    found = self._word_features(word)
                    if len(memo) >= MEMO_WORDS:
                        memo.clear()
                    memo[word] = found
                if found[0] >= 0:
                    cols.append(found[0])
                    segs.append(w_seg)
                cols += found[1]
                segs += [c_seg] * len(found[1])
        out = np.tile(self.intercept, (len(docs), 1))
        if cols:
            n_features = self.coef.shape[1]
            pairs, tf = np.unique(
                np.asarray(segs, dtype=np.int64) * n_features + np.asarray(cols, dtype=np.int64),
                return_counts=True,
            )
            seg, col = np.divmod(pairs, n_features)
            values = (np.log(tf.astype(np.float32)) + np.float32(1.0)) * self.idf[col]
            norms = np.sqrt(np.bincount(seg, weights=values.astype(np.float64) ** 2, minlength=2 * len(docs)))
            values = values / norms[seg].astype(np.float32)  # float32, as the vectorisers give it
            doc_of = seg // 2
            weighted = self.coef[:, col] * values.astype(np.float64)
            for k in range(n_scores):
                out[:, k] += np.bincount(doc_of, weights=weighted[k], minlength=len(docs))
        return out[:, 0] if n_scores == 1 else out

    def predict_proba(self, docs: Sequence[str]) -> np.ndarray:
        """Class probabilities, columns in ``classes`` order — as ``learn.probabilities`` gives them."""
        scores = self.decision(docs)
        if self.calibration is None:  # an SVM fitted without calibration (a class with one example)
            if scores.ndim == 1:
                p = 1.0 / (1.0 + np.exp(-scores))
                return np.column_stack([1 - p, p])
            scores = scores - scores.max(axis=1, keepdims=True)
            e = np.exp(scores)
            return np.asarray(e / e.sum(axis=1, keepdims=True))
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        if scores.ndim == 1:  # two classes: the calibrated score is the second class's probability
            p = 1.0 / (1.0 + np.exp(a[0] * scores + b[0]))
            return np.column_stack([1.0 - p, p])
        proba = 1.0 / (1.0 + np.exp(a * scores + b))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        return np.divide(proba, total, out=uniform, where=total != 0)


# —— from a fitted pipeline, to and from runtime.npz ——


def _vocabulary(vectorizer: Any, offset: int) -> _Vocabulary:
    vocab = vectorizer.vocabulary_
    terms = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in terms] != list(range(len(terms))):
        raise NotCompilable("vocabulary columns are not 0…n−1")
    if any(_SEP in t for t in terms):
        raise NotCompilable("a term holds a NUL character")
    return _Vocabulary(
        {t: i for i, t in enumerate(terms)}, np.asarray(vectorizer.idf_, dtype=np.float32), offset
    )


def compile_pipeline(pipeline: Any) -> CompiledModel:
    """The arrays of a pipeline made by ``learn.build_pipeline``; NotCompilable for anything else."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from .features import split_words

    try:
        union = pipeline.named_steps["features"]
        classifier = pipeline.named_steps["classifier"]
        (_, words), (_, chars) = union.transformer_list
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise NotCompilable(f"not a words+chars pipeline: {exc}") from exc
    if union.transformer_weights or not (
        isinstance(words, TfidfVectorizer) and isinstance(chars, TfidfVectorizer)
    ):
        raise NotCompilable("the features are not two plain TF-IDF vectorisers")
    for v in (words, chars):
        if not (v.sublinear_tf and v.use_idf and v.norm == "l2" and v.binary is False):
            raise NotCompilable("TF-IDF settings differ from build_pipeline's")
    if words.analyzer is not split_words or chars.analyzer != "char_wb" or chars.lowercase:
        raise NotCompilable("analysers differ from build_pipeline's")
    if chars.strip_accents is not None or chars.preprocessor is not None:
        raise NotCompilable("the character vectoriser preprocesses")

    calibration: np.ndarray | None
    if isinstance(classifier, CalibratedClassifierCV):
        if classifier.method != "sigmoid" or len(classifier.calibrated_classifiers_) != 1:
            raise NotCompilable("calibration other than one sigmoid set (ensemble=False)")
        calibrated = classifier.calibrated_classifiers_[0]
        svm = calibrated.estimator
        if list(svm.classes_) != list(classifier.classes_):
            raise NotCompilable("calibrated classes differ from the SVM's")
        calibration = np.array([[c.a_, c.b_] for c in calibrated.calibrators], dtype=np.float64)
    else:
        svm, calibration = classifier, None
    if not isinstance(svm, LinearSVC):
        raise NotCompilable("the classifier is not a linear SVM")
    coef = np.asarray(svm.coef_, dtype=np.float64)
    intercept = np.asarray(svm.intercept_, dtype=np.float64).reshape(-1)
    w = _vocabulary(words, 0)
    c = _vocabulary(chars, len(w.index))
    if coef.shape[1] != len(w.index) + len(c.index):
        raise NotCompilable("coefficients do not match the vocabularies")
    if calibration is not None and calibration.shape[0] != coef.shape[0]:
        raise NotCompilable("one calibration per score expected")
    return CompiledModel(
        [str(x) for x in svm.classes_], w, c, tuple(chars.ngram_range), coef, intercept, calibration
    )


def _pack(terms: Iterable[str]) -> np.ndarray:
    """Terms in column order (a vocabulary's keys are in that order) as one NUL-separated UTF-8 array."""
    return np.frombuffer(_SEP.join(terms).encode("utf-8"), dtype=np.uint8)


def _unpack(data: np.ndarray) -> dict[str, int]:
    text = data.tobytes().decode("utf-8")
    terms = text.split(_SEP) if text else []
    return {t: i for i, t in enumerate(terms)}


def save(model: CompiledModel, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {
        "format": np.array([FORMAT]),
        "classes": _pack(model.classes),
        "words": _pack(model.words.index),
        "words_idf": model.words.idf,
        "chars": _pack(model.chars.index),
        "chars_idf": model.chars.idf,
        "ngram_range": np.array(model.ngram_range),
        "coef": model.coef,
        "intercept": model.intercept,
    }
    if model.calibration is not None:
        arrays["calibration"] = model.calibration
    with path.open("wb") as f:
        np.savez(f, allow_pickle=False, **arrays)


def load(path: Path) -> CompiledModel:
    with np.load(path, allow_pickle=False) as z:
        if int(z["format"][0]) != FORMAT:
            raise NotCompilable(f"{path.name}: format {int(z['format'][0])}, expected {FORMAT}")
        words = _unpack(z["words"])
        classes = list(_unpack(z["classes"]))
        ngram = z["ngram_range"]
        return CompiledModel(
            classes,
            _Vocabulary(words, z["words_idf"], 0),
            _Vocabulary(_unpack(z["chars"]), z["chars_idf"], len(words)),
            (int(ngram[0]), int(ngram[1])),
            z["coef"],
            z["intercept"],
            z["calibration"] if "calibration" in z.files else None,
        )
