"""Training, saving and loading the statistical triage models.

Two tasks share one pipeline:

* ``category`` — which category a message belongs to, learnt from labelled history (the platform's
  closed cases, or an imported file of past work orders: ``{"text"|"tokens", "label"}`` lines). A label
  may be a category code (``1303``), a category name (``城乡建设``) or anything else (kept as it is,
  with no category code). A chatter label (``闲聊``/``chatter``) makes the model an actionability
  judge too.
* ``actionable`` — actionable or chatter, learnt from the patrol feed's decisions (made into a case /
  dismissed): ``train_actionable(rows)``.

The pipeline: TF-IDF over jieba words + TF-IDF over character 1–3-grams within words (sublinear tf),
a linear SVM, probabilities by sigmoid calibration (3-fold). A model directory holds ``model.joblib``
and ``meta.json`` (version, task, labels, held-out metrics, created_at, training data SHA-256, the
model file's SHA-256, library versions). Models are written under ``VAR_DIR/triage``, never into the
repository; the product ships this machinery, never a trained model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from . import runtime
from .features import record_doc, split_words, to_doc

MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
FORMAT = 1
ACTIONABLE = "actionable"
CHATTER = "chatter"
# Labels that mean "nothing to do" when a category model is also used to judge actionability.
CHATTER_LABELS = frozenset({"闲聊", "chatter", "无需处置", "无效", "none", "非事件"})
TASK_PREFIX = {"category": "cat", "actionable": "act", "urgent": "urg"}
# An actionability model learnt from decisions that say which matters were 紧急 also carries an urgency
# model (subfolder URGENT_DIR, labels URGENT / NOT_URGENT) and the threshold that served those decisions.
URGENT = "urgent"
NOT_URGENT = "normal"
URGENT_DIR = "urgent"
URGENT_MIN_DECISIONS = 10  # 紧急 decisions needed before an urgency model is learnt
URGENT_THRESHOLDS = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


class TrainingError(ValueError):
    """Training data that cannot make a model (bad line, one class only…). The message is for people."""


@dataclass
class Example:
    doc: str  # token document (see features.py)
    label: str


@dataclass
class LoadedModel:
    pipeline: Any  # the scikit-learn pipeline; None when loaded from runtime.npz alone
    meta: dict[str, Any]
    path: Path
    labels: list[str] = field(default_factory=list)
    compiled: runtime.CompiledModel | None = None  # predicts without scikit-learn (runtime.py)
    urgent: LoadedModel | None = None  # an actionability model's urgency model, if it learnt one

    @property
    def version(self) -> str:
        return str(self.meta.get("version", self.path.name))

    @property
    def task(self) -> str:
        return str(self.meta.get("task", "category"))

    def chatter_index(self) -> int | None:
        """The column of the "no action" label: ``chatter`` for an actionability model, a chatter label else."""
        for i, label in enumerate(self.labels):
            if label == CHATTER or label in CHATTER_LABELS:
                return i
        return None

    def predict_proba(self, docs: Sequence[str]) -> np.ndarray:
        """Class probabilities, columns in ``labels`` order."""
        if self.compiled is not None:
            return self.compiled.predict_proba(docs)
        return probabilities(self.pipeline, docs)


def models_root() -> Path:
    return Path(settings.VAR_DIR) / "triage"


# —— reading training data ——


def read_jsonl(path: str | Path) -> tuple[list[Example], str]:
    """Examples from a JSON-lines file and the file's SHA-256. A bad line is an error naming its number."""
    raw = Path(path).read_bytes()
    examples: list[Example] = []
    for number, line in enumerate(raw.decode("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingError(f"line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise TrainingError(f"line {number}: expected an object")
        label = record.get("label")
        if label is None or str(label).strip() == "":
            raise TrainingError(f"line {number}: no label")
        if not (record.get("text") or record.get("tokens") or record.get("title")):
            raise TrainingError(f"line {number}: no text or tokens")
        examples.append(Example(record_doc(record), str(label).strip()))
    return examples, hashlib.sha256(raw).hexdigest()


# —— the pipeline ——


def build_pipeline(*, n_docs: int, min_class: int, C: float = 1.0) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    min_df = 2 if n_docs >= 50 else 1
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(analyzer=split_words, sublinear_tf=True, dtype=np.float32),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 3),
                    min_df=min_df,
                    sublinear_tf=True,
                    lowercase=False,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    svm = LinearSVC(C=C)
    folds = min(3, min_class)
    # ensemble=False: the calibration is learnt from cross-validated scores, but one SVM (fitted on all
    # the data) is kept, not one per fold: a third of the memory and of the prediction time.
    classifier: Any = (
        CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False) if folds >= 2 else svm
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def probabilities(pipeline: Any, docs: Sequence[str]) -> np.ndarray:
    """Class probabilities (columns in ``pipeline.classes_`` order), also for an uncalibrated SVM."""
    docs = list(docs)
    if hasattr(pipeline, "predict_proba"):
        try:
            return np.asarray(pipeline.predict_proba(docs))
        except AttributeError:
            pass
    scores = np.asarray(pipeline.decision_function(docs), dtype=float)
    if scores.ndim == 1:
        p = 1.0 / (1.0 + np.exp(-scores))
        return np.column_stack([1 - p, p])
    scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def evaluate(pipeline: Any, docs: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    predicted = pipeline.predict(list(docs))
    names = sorted(set(labels) | set(predicted))
    p, r, f, n = precision_recall_fscore_support(labels, predicted, labels=names, zero_division=0)
    return {
        "macro_f1": round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "per_label": {
            name: {
                "precision": round(float(pi), 4),
                "recall": round(float(ri), 4),
                "f1": round(float(fi), 4),
                "n": int(ni),
            }
            for name, pi, ri, fi, ni in zip(names, p, r, f, n, strict=True)
        },
    }


# —— training ——


def _version(task: str, data_sha256: str, when: datetime) -> str:
    return f"{TASK_PREFIX[task]}-{when:%Y%m%d%H%M%S}-{data_sha256[:6]}"


def _check_out_dir(out: Path) -> Path:
    out = out.resolve()
    repo = Path(settings.BASE_DIR).resolve()
    var = Path(settings.VAR_DIR).resolve()
    if out.is_relative_to(repo) and not out.is_relative_to(var):
        raise TrainingError(f"{out}: models are never written into the repository; use a folder under {var}")
    if out.exists() and any(out.iterdir()):
        raise TrainingError(f"{out}: the folder exists and is not empty")
    return out


def train(
    examples: Sequence[Example],
    out_dir: str | Path | None = None,
    *,
    task: str = "category",
    test_split: float = 0.2,
    seed: int = 0,
    C: float = 1.0,
    data_sha256: str | None = None,
    note: str = "",
    extra_meta: dict[str, Any] | None = None,
) -> LoadedModel:
    """Fit, measure on a stratified held-out split, refit on everything, save. Returns the saved model.

    ``metrics`` in meta.json describe the held-out split (the saved model has seen those rows too).
    """
    import joblib
    import sklearn

    if task not in TASK_PREFIX:
        raise TrainingError(f"unknown task {task!r}")
    examples = [e for e in examples if e.doc]
    if not examples:
        raise TrainingError("no example with any words")
    counts = Counter(e.label for e in examples)
    if len(counts) < 2:
        raise TrainingError(f"need at least two labels, got {sorted(counts)}")
    docs = [e.doc for e in examples]
    labels = [e.label for e in examples]
    if data_sha256 is None:
        h = hashlib.sha256()
        for e in examples:
            h.update(json.dumps([e.doc, e.label], ensure_ascii=False).encode())
            h.update(b"\n")
        data_sha256 = h.hexdigest()

    metrics: dict[str, Any] = {"n_train": len(examples), "label_counts": dict(counts)}
    n_test = int(round(len(examples) * test_split)) if test_split > 0 else 0
    if (
        n_test
        and min(counts.values()) >= 2
        and n_test >= len(counts)
        and len(examples) - n_test >= len(counts)
    ):
        from sklearn.model_selection import train_test_split

        d_tr, d_te, y_tr, y_te = train_test_split(
            docs, labels, test_size=n_test, stratify=labels, random_state=seed
        )
        held = build_pipeline(n_docs=len(d_tr), min_class=min(Counter(y_tr).values()), C=C)
        held.fit(d_tr, y_tr)
        metrics.update(evaluate(held, d_te, y_te))
        metrics.update({"n_test": len(d_te), "test_split": test_split, "seed": seed})
    elif test_split > 0:
        metrics["note"] = "too few examples per label to hold any out: no held-out metrics"

    pipeline = build_pipeline(n_docs=len(docs), min_class=min(counts.values()), C=C)
    pipeline.fit(docs, labels)

    now = datetime.now(UTC)
    version = base = _version(task, data_sha256, now)
    if out_dir is None:
        n = 1
        while (models_root() / version).exists():
            n += 1
            version = f"{base}-{n}"
    out = _check_out_dir(Path(out_dir) if out_dir else models_root() / version)
    out.mkdir(parents=True, exist_ok=True)
    _slim(pipeline)
    joblib.dump(pipeline, out / MODEL_FILE, compress=3)
    compiled = runtime.compile_pipeline(pipeline)
    runtime.save(compiled, out / runtime.RUNTIME_FILE)
    meta = {
        "format": FORMAT,
        "version": version,
        "task": task,
        "labels": [str(c) for c in pipeline.classes_],
        "metrics": metrics,
        "created_at": now.isoformat(),
        "data_sha256": data_sha256,
        "model_sha256": _sha256_file(out / MODEL_FILE),
        "runtime_sha256": _sha256_file(out / runtime.RUNTIME_FILE),
        "params": {
            "C": C,
            "features": "jieba words + char_wb 1-3, tf-idf sublinear",
            "classifier": "LinearSVC+sigmoid",
        },
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "note": note,
        **(extra_meta or {}),
    }
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return LoadedModel(pipeline, meta, out, [str(c) for c in pipeline.classes_], compiled)


def _slim(pipeline: Any) -> None:
    """Drop what prediction does not need: the vectorisers' lists of pruned terms (often most of the
    model's size; scikit-learn keeps them only for inspection)."""
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            delattr(vectorizer, "stop_words_")


def train_file(path: str | Path, out_dir: str | Path | None = None, **kwargs: Any) -> LoadedModel:
    examples, sha = read_jsonl(path)
    return train(examples, out_dir, data_sha256=sha, **kwargs)


def train_actionable(
    rows: Iterable[tuple[str, bool] | tuple[str, bool, bool]],
    out_dir: str | Path | None = None,
    *,
    register: bool = True,
    activate: bool = False,
    note: str = "",
    test_split: float = 0.2,
    seed: int = 0,
    tune_rule_weight: bool = True,
) -> Path:
    """Learn actionability from labelled decisions: ``(text, True)`` = made into a case, ``False`` = dismissed.

    A third element says the decision was 紧急 (the case was made urgent). With URGENT_MIN_DECISIONS of
    them an urgency model is learnt beside (``urgent/``): urgent rules still flag what they flag, and the
    model adds the messages it finds urgent at the threshold (``urgent_threshold``) whose out-of-fold
    F2 on the decisions is best — recall counts four times as much as precision, since a missed 紧急
    message costs more than a needless look.

    With enough decisions (RULE_WEIGHT_MIN_PER_ANSWER of each answer) the weight of the rules against
    this model is learnt too: the model's out-of-fold probabilities on the decisions are combined with the
    rules at each weight of ``engine.RULE_LOGIT_CHOICES`` and the best F1 is kept in meta.json
    (``rule_logit``). A district whose groups read unlike the rules' day-one assumptions thus gives its
    own model more say, and one whose model is weak keeps the rules in charge.

    Saves under VAR_DIR/triage/<version>/ (or ``out_dir``), registers the version (unless
    ``register=False``) and activates it if asked; returns the model directory. Needs at least two
    examples of each answer.
    """
    kept: list[tuple[str, Example, bool]] = []  # (text, example, 紧急?) of the rows with any words
    for row in rows:
        text = str(row[0])
        doc = to_doc(text)
        if doc:
            kept.append(
                (text, Example(doc, ACTIONABLE if row[1] else CHATTER), len(row) > 2 and bool(row[2]))
            )
    examples = [e for _, e, _ in kept]
    counts = Counter(e.label for e in examples)
    if counts[ACTIONABLE] < 2 or counts[CHATTER] < 2:
        raise TrainingError(
            f"need at least two examples of each answer (made into a case: {counts[ACTIONABLE]}, dismissed: {counts[CHATTER]})"
        )
    from . import engine

    states = engine.rule_states([t for t, _, _ in kept])  # what the rules say, for both choices below
    extra = dict(learn_rule_weight(states, examples, seed=seed) or {}) if tune_rule_weight else {}
    urgent_examples = [Example(e.doc, URGENT if urgent else NOT_URGENT) for _, e, urgent in kept]
    urgency = learn_urgency(states, urgent_examples, seed=seed)
    if urgency is not None:
        extra.update(urgency)
    model = train(
        examples, out_dir, task="actionable", test_split=test_split, seed=seed, note=note, extra_meta=extra
    )
    if urgency is not None:
        try:
            train(urgent_examples, model.path / URGENT_DIR, task="urgent", test_split=0, seed=seed, note=note)
        except BaseException:
            shutil.rmtree(model.path, ignore_errors=True)  # no half-made model folder
            raise
    if register:
        from .services import register_model

        registered = register_model(model.path, note=note, activate=activate)
        return models_root_path(registered.path)
    return model.path


RULE_WEIGHT_MIN_PER_ANSWER = 20
RULE_WEIGHT_FOLDS = 5


def _out_of_fold(docs: Sequence[str], labels: Sequence[str], positive: str, *, seed: int) -> np.ndarray:
    """Each row's probability of ``positive`` from a model fitted on the other folds (stratified)."""
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(
        n_splits=min(RULE_WEIGHT_FOLDS, min(Counter(labels).values())), shuffle=True, random_state=seed
    )
    p_out = np.zeros(len(docs))
    for train_idx, test_idx in folds.split(docs, labels):
        y = [labels[i] for i in train_idx]
        pipeline = build_pipeline(n_docs=len(train_idx), min_class=min(Counter(y).values()))
        pipeline.fit([docs[i] for i in train_idx], y)
        proba = probabilities(pipeline, [docs[i] for i in test_idx])
        p_out[test_idx] = proba[:, list(pipeline.classes_).index(positive)]
    return p_out


def learn_urgency(
    states: Sequence[tuple[float, bool]], examples: Sequence[Example], *, seed: int = 0
) -> dict[str, Any] | None:
    """``{"urgent_model", "urgent_threshold", "urgent_f2", "urgent_n"}`` from out-of-fold probabilities of
    an urgency model, or None with fewer than URGENT_MIN_DECISIONS 紧急 decisions (the rules alone then
    say what is 紧急). The threshold maximises F2 of "an urgent rule fired, or the model's p ≥ t" against
    the people's 紧急; ties go to the higher threshold (fewer alarms). ``states``: ``engine.rule_states``
    of the decisions' texts."""
    from . import engine

    labels = [e.label for e in examples]
    counts = Counter(labels)
    if counts[URGENT] < URGENT_MIN_DECISIONS or counts[NOT_URGENT] < RULE_WEIGHT_MIN_PER_ANSWER:
        return None
    p_out = _out_of_fold([e.doc for e in examples], labels, URGENT, seed=seed)
    truth = [label == URGENT for label in labels]
    scores: dict[str, float] = {}
    best = (-1.0, 0.0)
    for t in URGENT_THRESHOLDS:
        said = [ruled or p >= t for (_, ruled), p in zip(states, p_out, strict=True)]
        f2 = engine.f_score(said, truth, beta=2)
        scores[str(t)] = round(f2, 4)
        if (round(f2, 4), t) > (round(best[0], 4), best[1]):
            best = (f2, t)
    return {
        "urgent_model": URGENT_DIR,
        "urgent_threshold": best[1],
        "urgent_f2": scores,
        "urgent_n": counts[URGENT],
    }


def learn_rule_weight(
    states: Sequence[tuple[float, bool]], examples: Sequence[Example], *, seed: int = 0
) -> dict[str, Any] | None:
    """``{"rule_logit": w, "rule_logit_f1": {w: F1…}, "rule_logit_n": n}`` from K-fold out-of-fold
    probabilities, or None when there are too few decisions to choose (the engine's default then holds).
    ``states``: ``engine.rule_states`` of the decisions' texts."""
    from . import engine

    labels = [e.label for e in examples]
    counts = Counter(labels)
    if min(counts[ACTIONABLE], counts[CHATTER]) < RULE_WEIGHT_MIN_PER_ANSWER:
        return None
    p_out = _out_of_fold([e.doc for e in examples], labels, ACTIONABLE, seed=seed)
    weight, f1 = engine.choose_rule_logit(states, p_out.tolist(), [label == ACTIONABLE for label in labels])
    return {"rule_logit": weight, "rule_logit_f1": f1, "rule_logit_n": len(examples)}


# —— loading ——


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_meta(path: str | Path) -> dict[str, Any]:
    meta_path = Path(path) / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TrainingError(f"{meta_path}: no meta.json — not a triage model folder") from exc
    if not isinstance(meta, dict) or "version" not in meta:
        raise TrainingError(f"{meta_path}: not a triage model description")
    return meta


def models_root_path(stored: str) -> Path:
    """A registered model's folder: stored relative to VAR_DIR/triage when it lies there."""
    p = Path(stored)
    return p if p.is_absolute() else models_root() / p


def load(path: str | Path) -> LoadedModel:
    """Load a saved model, checking its files against the SHA-256s in its meta.json.

    A model trained by this version has ``runtime.npz``: only those arrays are read (no scikit-learn,
    no pickle; a tenth of the time and memory). An older model folder has only ``model.joblib``: the
    pipeline is unpickled and compiled in memory, so it predicts the same way.
    """
    folder = Path(path)
    meta = read_meta(folder)
    runtime_file = folder / runtime.RUNTIME_FILE
    expected_runtime = meta.get("runtime_sha256")
    if expected_runtime and runtime_file.is_file():
        if _sha256_file(runtime_file) != expected_runtime:
            raise TrainingError(f"{runtime_file}: the file does not match its meta.json (changed or damaged)")
        try:
            compiled = runtime.load(runtime_file)
        except (ValueError, KeyError, OSError) as exc:
            raise TrainingError(f"{runtime_file}: unreadable ({exc})") from exc
        return _with_urgency(LoadedModel(None, meta, folder, list(compiled.classes), compiled))

    import joblib

    model_file = folder / MODEL_FILE
    expected = meta.get("model_sha256")
    if expected and _sha256_file(model_file) != expected:
        raise TrainingError(f"{model_file}: the file does not match its meta.json (changed or damaged)")
    pipeline = joblib.load(model_file)
    try:
        in_memory: runtime.CompiledModel | None = runtime.compile_pipeline(pipeline)
    except runtime.NotCompilable:
        in_memory = None  # a pipeline of another shape: it predicts itself
    return _with_urgency(LoadedModel(pipeline, meta, folder, [str(c) for c in pipeline.classes_], in_memory))


def _with_urgency(model: LoadedModel) -> LoadedModel:
    """An actionability model that learnt an urgency model loads it too (checked the same way)."""
    if model.task == "actionable" and model.meta.get("urgent_model"):
        model.urgent = load(model.path / URGENT_DIR)
    return model
