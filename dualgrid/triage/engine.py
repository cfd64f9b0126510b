"""Triage of a group message: actionable or chatter, kind, category, urgency, confidence, reasons.

Rules first (rules.py, edited in the admin), then the active models when there are any:

1. The rules give a score: the weights of the actionable rules that fired minus those of the guards
   (闲聊/广告/宣传). An urgent rule makes the message actionable and 紧急 whatever else says.
2. With an active ``actionable`` model (trained on the patrol feed's decisions) the decision is
   ``clip(logit(p_model), ±MODEL_LOGIT_CLIP) + w × score > 0`` (w = the model's learnt rule weight, else RULE_LOGIT): a strong rule outweighs a
   doubtful model, a confident model outweighs a hint or one strong word, not two. Without one, the rules decide alone: ``score ≥ RULES_THRESHOLD``.
3. An actionable message gets its category from the most specific rule that fired, else from the active
   ``category`` model's top label (a category code or name of the platform's tree).
4. 紧急: an urgent rule, or — when the actionability model learnt one from 紧急 decisions — the urgency
   model at the threshold chosen at training (``urgent_threshold``). The model adds 紧急 flags; it never
   takes one away from a rule.

The rules and the active model versions are a per-process snapshot, re-checked against the database at
most every ``DUALGRID["TRIAGE_CACHE_SECONDS"]`` (default 5): activating or rolling back a model in the
admin reaches every process within that time, without a restart (same idea as cases/config.py).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .features import _WORDY, normalize, to_doc
from .learn import CHATTER_LABELS, LoadedModel, load, models_root_path
from .learn import URGENT as URGENT_LABEL
from .rules import (
    ACTIONABLE_KINDS,
    DEFAULT_RULES,
    KIND_LABELS,
    KIND_PRIORITY,
    Hit,
    Match,
    Rule,
    RuleSet,
    compile_rule,
)

log = logging.getLogger(__name__)

URGENT = "urgent"
NORMAL = "normal"
RULES_THRESHOLD = 0.6  # rules alone: actionable at this score (a strong rule is 1.0, a hint 0.3)
RULE_LOGIT = 2.5  # how far one unit of rule score moves the model's log-odds
# The model's log-odds are clipped to ±this before the rules are added: a confident model outvotes one
# strong word (2.5) but not a strong word and a hint. (Tuned by cross-validation on the old labelled rows.)
MODEL_LOGIT_CLIP = 3.0
# An actionability model trained on a district's own decisions carries the rule weight that served those
# decisions best (``rule_logit`` in its meta.json, chosen from these by cross-validation at training time,
# see ``choose_rule_logit``); RULE_LOGIT is the weight for any other model.
RULE_LOGIT_CHOICES = (0.75, 1.0, 1.5, 2.0, 2.5, 3.0)
URGENT_FLOOR = 0.95  # confidence of an urgent rule's "actionable"
CHATTER_GUARD_MAX_CHARS = 40  # 闲聊 words count against messages up to this long
# In a long text (a post, an article) hints such as 怎么办, 希望, 帮助 turn up anyway: together they count
# at most HINT_CAP_LONG there. A hint is an actionable rule weighing less than HINT_WEIGHT.
LONG_TEXT_CHARS = 80
HINT_WEIGHT = 0.5
HINT_CAP_LONG = 0.3
MAX_LOADED = 4  # model versions kept in memory (so a rollback is instant)


@dataclass(frozen=True)
class TriageResult:
    actionable: bool  # 求助/投诉/纠纷/安全隐患/突发事件/舆情苗头 vs chatter
    kind: str  # "help","complaint","dispute","hazard","emergency","opinion" or "" for chatter
    kind_label: str  # 求助 / 投诉 / 纠纷 / 安全隐患 / 突发事件 / 舆情苗头 / 闲聊
    category_code: str | None  # a code of the category tree (cases_category) or None
    urgency: str  # "urgent" or "normal" (dualgrid.cases.models.Urgency values)
    confidence: float  # 0..1, of the actionable decision
    reasons: list[str]  # human-readable, Chinese
    model_version: str | None  # the model(s) consulted; None when the rules alone decided


# —— the per-process snapshot ——


@dataclass
class _State:
    rules: RuleSet
    category: LoadedModel | None = None
    actionable: LoadedModel | None = None
    fingerprint: Any = None
    checked_at: float = 0.0
    category_names: dict[str, str] = field(default_factory=dict)  # name → code
    category_codes: set[str] = field(default_factory=set)


_lock = threading.RLock()
_state: _State | None = None
_loaded: OrderedDict[str, LoadedModel] = OrderedDict()
_default_rules: RuleSet | None = None


def _defaults() -> RuleSet:
    global _default_rules
    if _default_rules is None:
        _default_rules = RuleSet.from_specs(DEFAULT_RULES)
    return _default_rules


def _ttl() -> float:
    return float(getattr(settings, "DUALGRID", {}).get("TRIAGE_CACHE_SECONDS", 5))


def _fingerprint() -> Any:
    from django.db.models import Count, Max

    from .models import TriageModel, TriageRule

    rules = TriageRule.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    models = tuple(
        TriageModel.objects.filter(active=True).order_by("task").values_list("task", "version", "path")
    )
    return (rules["n"], rules["last"], rules["top"]), models


def _db_rules() -> RuleSet:
    from .models import TriageRule

    return RuleSet(
        compile_rule(r.pk, r.name, r.kind, r.category_code, r.urgency, r.weight, r.keyword_list())
        for r in TriageRule.objects.filter(active=True).order_by("sort", "id")
    )


def _model(version: str, path: str) -> LoadedModel | None:
    model = _loaded.get(version)
    if model is None:
        try:
            model = load(models_root_path(path))
        except Exception:
            log.exception("triage: cannot load model %s from %s; rules alone for its task", version, path)
            return None
        _loaded[version] = model
        while len(_loaded) > MAX_LOADED:
            _loaded.popitem(last=False)
    else:
        _loaded.move_to_end(version)
    return model


def _categories() -> tuple[dict[str, str], set[str]]:
    try:
        from dualgrid.cases import config

        cats = config.snapshot().categories
        return {c.name: code for code, c in cats.items()}, set(cats)
    except Exception:
        from dualgrid.cases.defaults import CATEGORY_TREE

        return {name: code for code, name, _, _ in CATEGORY_TREE}, {code for code, *_ in CATEGORY_TREE}


def _current() -> _State:
    global _state
    now = time.monotonic()
    state = _state
    if state is not None and now - state.checked_at < _ttl():
        return state
    with _lock:
        state = _state
        if state is not None and now - state.checked_at < _ttl():
            return state
        try:
            fingerprint = _fingerprint()
        except Exception as exc:  # no database, not migrated, or a test without database access
            if state is None or state.fingerprint is not None:
                log.warning(
                    "triage: rules table unreadable (%s); using the shipped rules", exc.__class__.__name__
                )
            state = _State(rules=_defaults(), checked_at=now)
            state.category_names, state.category_codes = _categories()
            _state = state
            return state
        if state is not None and state.fingerprint == fingerprint:
            state.checked_at = now
            return state
        rules_fp, models = fingerprint
        rules = (
            state.rules
            if state is not None and state.fingerprint and state.fingerprint[0] == rules_fp
            else _db_rules()
        )
        new = _State(rules=rules, fingerprint=fingerprint, checked_at=now)
        for task, version, path in models:
            setattr(new, task, _model(version, path))
        new.category_names, new.category_codes = _categories()
        _state = new
        return new


def invalidate() -> None:
    """Re-read rules and active models on the next call (this process; others within the TTL)."""
    global _state
    with _lock:
        _state = None


def active_versions() -> dict[str, str | None]:
    state = _current()
    return {
        "category": state.category.version if state.category else None,
        "actionable": state.actionable.version if state.actionable else None,
    }


# —— deciding ——


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _kind_for_category(code: str | None) -> str:
    if not code:
        return "help"
    if code.startswith("10"):
        return "dispute"
    if code.startswith("11") or code.startswith("09"):
        return "hazard"
    if code.startswith("15"):
        return "emergency"
    if code[:2] in {"05", "08", "13", "14"}:
        return "help"
    return "complaint"


def _hit_order(hit: Hit) -> tuple[int, float, int, int]:
    rule = hit.rule
    return (
        0 if rule.urgency == URGENT else 1,
        -rule.weight,
        KIND_PRIORITY.get(rule.kind, 99),
        -len(rule.category_code),
    )


def _label_code(label: str, state: _State) -> str | None:
    if label in state.category_codes:
        return label
    return state.category_names.get(label)


@dataclass
class _Pre:
    """What the rules said about one message, before the models."""

    norm: str
    match: Match
    positive: list[Hit]
    guards: list[Hit]
    score: float
    urgent: bool
    empty: str  # "" or why there is nothing to read


def _pre(text: Any, rules: RuleSet) -> _Pre:
    norm = normalize(text)
    if not norm:
        return _Pre(norm, Match(), [], [], 0.0, False, "空消息")
    if not _WORDY.search(norm):
        return _Pre(norm, Match(), [], [], 0.0, False, "无文字内容（表情或符号）")
    match = rules.match(norm)
    positive = sorted((h for h in match.hits if h.rule.kind in ACTIONABLE_KINDS), key=_hit_order)
    # A greeting in a long message says nothing about the rest of it.
    guards = [
        h
        for h in match.hits
        if h.rule.is_guard and (h.rule.kind != "chatter" or len(norm) <= CHATTER_GUARD_MAX_CHARS)
    ]
    strong = sum(h.rule.weight for h in positive if h.rule.weight >= HINT_WEIGHT)
    hints = sum(h.rule.weight for h in positive if h.rule.weight < HINT_WEIGHT)
    if len(norm) > LONG_TEXT_CHARS:
        hints = min(hints, HINT_CAP_LONG)
    score = strong + hints - sum(h.rule.weight for h in guards)
    urgent = any(h.rule.urgency == URGENT for h in positive)
    return _Pre(norm, match, positive, guards, score, urgent, "")


def _combined(p: float, score: float, rule_logit: float) -> float:
    """The decision's log-odds: the model's (clipped) plus the rules' score times their weight."""
    return min(max(_logit(p), -MODEL_LOGIT_CLIP), MODEL_LOGIT_CLIP) + rule_logit * score


def rule_logit_of(model: LoadedModel) -> float:
    """The rule weight to combine with this model: its own learnt one if it has one, else RULE_LOGIT."""
    value = model.meta.get("rule_logit") if model.task == "actionable" else None
    try:
        return float(value) if value is not None else RULE_LOGIT
    except (TypeError, ValueError):
        return RULE_LOGIT


def rule_states(texts: Sequence[Any], rules: RuleSet | None = None) -> list[tuple[float, bool]]:
    """(rule score, urgent?) per text under the given rules (default: the active ones)."""
    rules = rules or _current().rules
    return [(p.score, p.urgent) for p in (_pre(t, rules) for t in texts)]


def f_score(said: Sequence[bool], truth: Sequence[bool], beta: float = 1.0) -> float:
    """F-beta of ``said`` against ``truth`` (beta 1: F1; beta 2 weighs recall four times as much)."""
    tp = sum(s and g for s, g in zip(said, truth, strict=True))
    fp = sum(s and not g for s, g in zip(said, truth, strict=True))
    fn = sum(g and not s for s, g in zip(said, truth, strict=True))
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0


def choose_rule_logit(
    states: Sequence[tuple[float, bool]], p_model: Sequence[float], truth: Sequence[bool]
) -> tuple[float, dict[str, float]]:
    """The weight of RULE_LOGIT_CHOICES whose decisions best match ``truth`` (F1 of "actionable").

    ``p_model`` must be out-of-fold probabilities (the model never saw the row it judges), or the model
    looks better than it is and the rules get too little say. Ties go to the weight nearest RULE_LOGIT.
    Returns the weight and every weight's F1.
    """
    scores: dict[str, float] = {}
    best = (-1.0, 0.0, RULE_LOGIT)
    for w in RULE_LOGIT_CHOICES:
        said = [
            urgent or _combined(p, score, w) > 0 for (score, urgent), p in zip(states, p_model, strict=True)
        ]
        f1 = f_score(said, truth)
        scores[f"{w:g}"] = round(f1, 4)
        key = (round(f1, 4), -abs(w - RULE_LOGIT), w)
        if key > best:
            best = key
    return best[2], scores


def _rule_reasons(pre: _Pre) -> list[str]:
    reasons: list[str] = []
    for hit in pre.positive:
        if hit.rule.urgency == URGENT:
            reasons.append(f"关键词“{hit.keyword}”→紧急")
    for hit in pre.positive:
        reasons.append(f"规则：{KIND_LABELS.get(hit.rule.kind, hit.rule.kind)}（{hit.keyword}）")
    for hit in pre.guards:
        reasons.append(f"{KIND_LABELS.get(hit.rule.kind, hit.rule.kind)}（{hit.keyword}）")
    for phrase in pre.match.negated:
        reasons.append(f"否定：“{phrase}”不计")
    return reasons


def _p_actionable(model: LoadedModel, proba: Any) -> float:
    idx = model.chatter_index()
    if model.task == "actionable":
        labels = model.labels
        if "actionable" in labels:
            return float(proba[labels.index("actionable")])
    if idx is None:
        return float("nan")
    return 1.0 - float(proba[idx])


def _safe_proba(model: LoadedModel | None, docs: list[str]) -> Any:
    if model is None or not docs:
        return None
    try:
        return model.predict_proba(docs)
    except Exception:
        log.exception("triage: model %s failed; rules alone for this batch", model.version)
        return None


def _triage_batch(texts: Sequence[Any], state: _State) -> list[TriageResult]:
    pres = [_pre(t, state.rules) for t in texts]
    readable = [i for i, p in enumerate(pres) if not p.empty]
    docs: dict[int, str] = {}
    need_docs = state.actionable is not None or state.category is not None
    if need_docs:
        for i in readable:
            docs[i] = to_doc(pres[i].norm, normalized=True)

    # Actionability: a dedicated model, else a category model that knows a chatter label.
    act_model = state.actionable
    if act_model is None and state.category is not None and state.category.chatter_index() is not None:
        act_model = state.category
    p_act: dict[int, float] = {}
    if act_model is not None:
        idx = [i for i in readable if docs.get(i)]
        proba = _safe_proba(act_model, [docs[i] for i in idx])
        if proba is not None:
            for row, i in enumerate(idx):
                p = _p_actionable(act_model, proba[row])
                if not math.isnan(p):
                    p_act[i] = p

    # 紧急 by the urgency model an actionability model learnt from 紧急 decisions (beside the urgent rules).
    p_urgent: dict[int, float] = {}
    urgent_model = act_model.urgent if act_model is not None else None
    if urgent_model is not None and act_model is not None:
        idx = [i for i in readable if docs.get(i)]
        proba = _safe_proba(urgent_model, [docs[i] for i in idx])
        if proba is not None and URGENT_LABEL in urgent_model.labels:
            col = urgent_model.labels.index(URGENT_LABEL)
            threshold = float(act_model.meta.get("urgent_threshold", 1.0))
            for row, i in enumerate(idx):
                if float(proba[row][col]) >= threshold:
                    p_urgent[i] = float(proba[row][col])

    # actionable, confidence, reasons, versions, urgent
    decisions: list[tuple[bool, float, list[str], list[str], bool]] = []
    for i, pre in enumerate(pres):
        reasons = _rule_reasons(pre)
        versions: list[str] = []
        if pre.empty:
            decisions.append((False, 0.99, [pre.empty], versions, False))
            continue
        urgent = pre.urgent or i in p_urgent
        if i in p_urgent and not pre.urgent:
            reasons.insert(0, f"模型：紧急 {p_urgent[i]:.2f}")
        if i in p_act and act_model is not None:
            p = p_act[i]
            z = _combined(p, pre.score, rule_logit_of(act_model))
            versions.append(act_model.version)
            reasons.append(f"模型：{'需处置' if p >= 0.5 else '闲聊'} {max(p, 1 - p):.2f}")
        else:
            z = 4.0 * (pre.score - RULES_THRESHOLD) + (0.5 if pre.score >= RULES_THRESHOLD else 0.0)
        actionable = z > 0 or urgent
        confidence = _sigmoid(z) if actionable else 1.0 - _sigmoid(z)
        if urgent:
            confidence = max(confidence, URGENT_FLOOR)
        decisions.append((actionable, confidence, reasons, versions, urgent))

    # Category model on the actionable ones.
    cat_pred: dict[int, tuple[str, float]] = {}
    if state.category is not None:
        idx = [i for i in readable if decisions[i][0] and docs.get(i)]
        proba = _safe_proba(state.category, [docs[i] for i in idx])
        if proba is not None:
            labels = state.category.labels
            for row, i in enumerate(idx):
                best = int(proba[row].argmax())
                cat_pred[i] = (labels[best], float(proba[row][best]))

    results: list[TriageResult] = []
    for i, pre in enumerate(pres):
        actionable, confidence, reasons, versions, urgent = decisions[i]
        category: str | None = None
        kind = ""
        if actionable:
            ruled = [h for h in pre.positive if h.rule.category_code]
            if ruled:
                category = min(ruled, key=_hit_order).rule.category_code
            if i in cat_pred and state.category is not None:
                label, prob = cat_pred[i]
                reasons.append(f"模型：{label} {prob:.2f}")
                if state.category.version not in versions:
                    versions.append(state.category.version)
                if category is None and label != "chatter" and label not in CHATTER_LABELS:
                    category = _label_code(label, state)
            kind = pre.positive[0].rule.kind if pre.positive else _kind_for_category(category)
        results.append(
            TriageResult(
                actionable=actionable,
                kind=kind,
                kind_label=KIND_LABELS[kind],
                category_code=category,
                urgency=URGENT if actionable and urgent else NORMAL,
                confidence=round(min(max(confidence, 0.0), 1.0), 4),
                reasons=reasons,
                model_version="+".join(versions) or None,
            )
        )
    return results


def _fallback(texts: Sequence[Any], exc: BaseException) -> list[TriageResult]:
    log.exception("triage failed (%s); answering with rules alone", exc.__class__.__name__)
    state = _State(rules=_defaults())
    state.category_names, state.category_codes = _categories()
    return _triage_batch(texts, state)


def triage_many(texts: list[str]) -> list[TriageResult]:
    """Triage a batch: the rules per message, each model once for the whole batch."""
    texts = list(texts)
    if not texts:
        return []
    try:
        return _triage_batch(texts, _current())
    except Exception as exc:
        return _fallback(texts, exc)


def triage(text: str) -> TriageResult:
    """Triage one message (rules + the active models). Never raises on odd input."""
    return triage_many([text])[0]


def triage_with(
    texts: Sequence[Any],
    *,
    category: LoadedModel | None = None,
    actionable: LoadedModel | None = None,
    rules: RuleSet | None = None,
) -> list[TriageResult]:
    """Triage with the given models (and rules) instead of the active ones (``triage predict``, benches)."""
    base = _current()
    state = _State(rules=rules or base.rules, category=category, actionable=actionable)
    state.category_names, state.category_codes = base.category_names, base.category_codes
    return _triage_batch(list(texts), state)


# —— near-duplicates ——

_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
MIN_SHARED_BIGRAMS = 4


def _bigrams(text: Any) -> set[str]:
    s = _NON_WORD.sub("", normalize(text))
    if len(s) < 2:
        return {s} if s else set()
    return {s[i : i + 2] for i in range(len(s) - 1)}


def similarity(a: Any, b: Any) -> float:
    """Character-bigram overlap coefficient |A∩B| / min(|A|,|B|), 0 when fewer than 4 bigrams are shared.

    Overlap rather than Jaccard: a short message repeating a case is contained in the case's longer title
    and description, and Jaccard would punish the difference in length.
    """
    return _overlap(_bigrams(a), _bigrams(b))


def _overlap(x: set[str], y: set[str]) -> float:
    if not x or not y:
        return 0.0
    shared = len(x & y)
    if shared < min(MIN_SHARED_BIGRAMS, len(x), len(y)) or shared == 0:
        return 0.0
    return shared / min(len(x), len(y))


# What tells two incidents of the same kind apart in one grid: the 社/组, building, unit, house number
# or room, and the family (朱氏, 张某). "7社朱氏兄弟…打起来了" and "9社龚氏兄弟…打起来了" share most
# of their bigrams (0.82) but are two fights.
_NUMERALS = str.maketrans("〇零一二两三四五六七八九", "001223456789")
_PLACE_MARK = re.compile(
    r"(?<![0-9〇零一二两三四五六七八九十])([0-9〇零一二两三四五六七八九十]{1,4})\s*"
    r"(村民小组|号楼|号院|单元|社|组|队|栋|幢|号|室)"
)
_PLACE_KIND = {"村民小组": "组", "社": "组", "队": "组", "号楼": "栋", "幢": "栋", "号院": "号"}
# The commonest surnames: "X氏" / "X某" names a family only after one of them (not 摄氏度, 某些).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤"
)
_FAMILY_MARK = re.compile(f"([{_SURNAMES}])(?:氏|某)")


def _number(digits: str) -> str:
    """Arabic for a small Chinese or Arabic number: 七 → 7, 十二 → 12, 二十 → 20, 07 → 7."""
    if "十" in digits:
        tens, _, ones = digits.partition("十")
        return str(int(tens.translate(_NUMERALS) or 1) * 10 + int(ones.translate(_NUMERALS) or 0))
    return str(int(digits.translate(_NUMERALS)))


def _specifics(text: Any) -> dict[str, set[str]]:
    """The 社/组, building, unit, number and room marks and the families a text names, by kind."""
    s = normalize(text)
    found: dict[str, set[str]] = {}
    for m in _PLACE_MARK.finditer(s):
        digits, mark = m.groups()
        if mark == "号" and s[max(m.start() - 1, 0) : m.start()] == "月":
            continue  # 11月3号: a date
        try:
            found.setdefault(_PLACE_KIND.get(mark, mark), set()).add(_number(digits))
        except ValueError:
            continue
    for surname in _FAMILY_MARK.findall(s):
        found.setdefault("氏", set()).add(surname)
    return found


def _conflict(a: dict[str, set[str]], b: dict[str, set[str]]) -> bool:
    """Both texts name a mark of the same kind and share none of its values: another place or family."""
    return any(kind in b and not (values & b[kind]) for kind, values in a.items())


def near_duplicate(
    text: str, candidates: list[tuple[int, str]], threshold: float = 0.45
) -> tuple[int, float] | None:
    """The best candidate ``(id, similarity)`` at or above ``threshold``, or None. A candidate that
    names another 社/组, building, unit, number, room or family than the text (both name one of the
    kind, none in common) is not a repeat however similar the words.

    For "repeats an open case in that grid within 7 days": the caller passes that grid's open cases of
    the last 7 days as ``(case id, title + description)``.
    """
    try:
        mine = _bigrams(text)
        if len(mine) < 2:
            return None
        marks = _specifics(text)
        best: tuple[int, float] | None = None
        for cid, other in candidates:
            s = _overlap(mine, _bigrams(other))
            if s < threshold or (marks and _conflict(marks, _specifics(other))):
                continue
            if best is None or s > best[1]:
                best = (cid, round(s, 4))
        return best
    except Exception:
        log.exception("near_duplicate failed")
        return None


__all__ = [
    "TriageResult",
    "active_versions",
    "invalidate",
    "near_duplicate",
    "similarity",
    "triage",
    "triage_many",
    "triage_with",
    "Rule",
]
