"""Training, the CLI round-trip, registering, and switching the live model without a restart."""

import io
import json
import random
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dualgrid.triage import engine, learn, runtime, services
from dualgrid.triage.engine import triage, triage_many
from dualgrid.triage.models import TriageModel

pytestmark = pytest.mark.django_db

# A tiny synthetic district: three kinds of matters and chatter, written here (not third-party data).
TOPICS = {
    "1301": ["停水", "自来水发黄", "水压太低", "水管爆了", "没有水用"],
    "1303": ["下水道堵了", "化粪池满了", "污水冒出来", "排水沟不通", "雨水排不出去"],
    "0201": ["噪音太大", "广场舞太吵", "半夜装修", "喇叭声音大", "狗叫声吵"],
}
PLACES = ["3栋", "幸福小区", "村口", "二组", "老街", "5单元", "菜市场旁"]
ENDINGS = ["好几天了", "没人管", "请尽快处理", "谁来管管", "已经一个星期"]
CHATTER = ["早上好", "今天天气真好", "晚饭吃什么", "哈哈太好笑了", "周末去钓鱼", "孩子考得不错", "收到谢谢"]


def synthetic(n: int, seed: int = 0) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        label = list(TOPICS)[i % 3]
        rows.append(
            {
                "text": f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[label])}，{rnd.choice(ENDINGS)}",
                "label": label,
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def var(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    settings.DUALGRID = {**settings.DUALGRID, "TRIAGE_CACHE_SECONDS": 0}
    return settings.VAR_DIR


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("triage", *args, stdout=out)
    return out.getvalue()


def test_train_and_predict_round_trip(var: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "train.jsonl", synthetic(90))
    out_dir = var / "triage" / "m1"
    printed = run("train", "--data", str(data), "--out", str(out_dir), "--test-split", "0.2", "--seed", "0")
    assert "macro-F1" in printed
    meta = json.loads((out_dir / "meta.json").read_text())
    assert meta["labels"] == ["0201", "1301", "1303"]
    assert meta["task"] == "category" and meta["version"].startswith("cat-")
    assert meta["metrics"]["n_test"] == 18 and meta["metrics"]["macro_f1"] > 0.9
    assert len(meta["data_sha256"]) == 64 and meta["created_at"]

    queries = [
        {"id": 1, "text": "幸福小区又停水了，没人管"},
        {"id": "b", "title": "下水道", "text": "3栋下水道堵了污水冒出来"},
        {"id": 3, "text": "半夜装修噪音太大"},
        {"id": 4, "text": "家里老人走失了"},
        {"id": 5, "text": "早上好"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", queries)  # type: ignore[arg-type]
    lines = [
        json.loads(x) for x in run("predict", "--model", str(out_dir), "--input", str(source)).splitlines()
    ]
    assert [x["id"] for x in lines] == [1, "b", 3, 4, 5]
    assert all(set(x) == {"id", "label", "confidence", "actionable", "urgency"} for x in lines)
    assert [x["label"] for x in lines[:3]] == ["1301", "1303", "0201"]
    assert all(0 <= x["confidence"] <= 1 for x in lines)
    assert lines[3]["actionable"] is True and lines[3]["urgency"] == "urgent"
    assert lines[4]["actionable"] is False


def test_train_accepts_tokens(var: Path, tmp_path: Path) -> None:
    rows = [{"tokens": " ".join(r["text"]), "label": r["label"]} for r in synthetic(60, seed=1)]
    model = learn.train_file(write_jsonl(tmp_path / "tok.jsonl", rows), test_split=0.2)
    assert model.path.parent == var / "triage"
    assert set(model.labels) == {"0201", "1301", "1303"}


def test_bad_training_data_is_refused(var: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "停水了", "label": "1301"}\nnot json\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        run("train", "--data", str(bad))
    one = write_jsonl(tmp_path / "one.jsonl", [{"text": "停水", "label": "1301"}] * 5)
    with pytest.raises(CommandError, match="two labels"):
        run("train", "--data", str(one))
    with pytest.raises(CommandError, match="repository"):
        run(
            "train",
            "--data",
            str(write_jsonl(tmp_path / "ok.jsonl", synthetic(30))),
            "--out",
            "dualgrid/triage/model",
        )


def test_model_file_tampering_is_detected(var: Path, tmp_path: Path) -> None:
    model = learn.train_file(write_jsonl(tmp_path / "t.jsonl", synthetic(30)), test_split=0)
    runtime_file = model.path / runtime.RUNTIME_FILE
    data = runtime_file.read_bytes()
    runtime_file.write_bytes(data + b"x")
    with pytest.raises(learn.TrainingError, match="does not match"):
        learn.load(model.path)
    # A folder from before runtime.npz: the pipeline file is checked instead.
    runtime_file.unlink()
    assert learn.load(model.path).pipeline is not None
    with (model.path / learn.MODEL_FILE).open("ab") as f:
        f.write(b"x")
    with pytest.raises(learn.TrainingError, match="does not match"):
        learn.load(model.path)


def test_activation_and_rollback_switch_the_live_model_without_restart(var: Path, tmp_path: Path) -> None:
    a = learn.train_file(write_jsonl(tmp_path / "a.jsonl", synthetic(60, seed=2)), test_split=0)
    rows_b = [
        {"text": r["text"], "label": {"1301": "城乡建设", "1303": "城乡建设", "0201": "环境保护"}[r["label"]]}
        for r in synthetic(60, seed=3)
    ]
    b = learn.train_file(write_jsonl(tmp_path / "b.jsonl", rows_b), test_split=0)
    msg = "老街停水，没人管"

    assert triage(msg).model_version is None  # rules alone
    ma = services.register_model(a.path, activate=True)
    first = triage(msg)
    assert first.model_version == ma.version
    assert any(r.startswith("模型：1301 ") for r in first.reasons)
    assert first.category_code == "1301"  # from the rule (停水) and the model alike

    mb = services.register_model(b.path, activate=True)
    second = triage("老街半夜装修噪音太大，谁来管管")
    assert second.model_version == mb.version
    assert any(r.startswith("模型：环境保护 ") for r in second.reasons)

    # Rules first: a rule's category wins; the model fills in where no rule names one.
    assert triage("二组水压太低，没人管").category_code == "1301"

    back = services.rollback("category")
    assert back is not None and back.version == ma.version
    assert triage(msg).model_version == ma.version
    assert services.rollback("category") is None  # before A there was none: rules alone
    assert triage(msg).model_version is None
    assert not TriageModel.objects.filter(active=True).exists()


def test_another_process_sees_an_activation_within_the_ttl(  # type: ignore[no-untyped-def]
    var: Path, tmp_path: Path, settings, monkeypatch
) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "TRIAGE_CACHE_SECONDS": 5}
    a = learn.train_file(write_jsonl(tmp_path / "a.jsonl", synthetic(45, seed=4)), test_split=0)
    model = services.register_model(a.path)
    clock = [1000.0]
    monkeypatch.setattr(engine.time, "monotonic", lambda: clock[0])
    assert triage("村口停水没人管").model_version is None
    # Another process's admin activates it: only the database changes, nobody calls invalidate() here.
    TriageModel.objects.filter(pk=model.pk).update(active=True)
    clock[0] += 1
    assert triage("村口停水没人管").model_version is None  # still the snapshot
    clock[0] += 5
    assert triage("村口停水没人管").model_version == model.version


def test_actionable_model_from_decisions(var: Path) -> None:
    rnd = random.Random(5)
    rows = [(f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[k])}", True) for k in TOPICS for _ in range(15)]
    rows += [(f"{rnd.choice(CHATTER)}{rnd.choice(['', '！', '呀', '~'])}", False) for _ in range(45)]
    folder = learn.train_actionable(rows, note="from the patrol feed")
    registered = TriageModel.objects.get()
    assert registered.task == "actionable" and not registered.active
    assert learn.models_root_path(registered.path) == folder
    assert triage("菜市场旁水压太低").model_version is None  # not active yet

    services.activate_model(registered)
    r = triage("菜市场旁水压太低")  # no rule says actionable; the model does
    assert r.actionable and r.model_version == registered.version
    assert any(x.startswith("模型：需处置") for x in r.reasons)
    assert not triage("今天天气真好呀").actionable
    # An urgent rule still wins over a doubtful model.
    assert triage("今天天气真好，老人走失了").urgency == "urgent"


def test_train_actionable_needs_both_answers(var: Path) -> None:
    with pytest.raises(learn.TrainingError):
        learn.train_actionable([("停水了", True)] * 10)


def test_triage_many_with_models_matches_single(var: Path, tmp_path: Path) -> None:
    a = learn.train_file(write_jsonl(tmp_path / "a.jsonl", synthetic(45, seed=6)), test_split=0)
    services.register_model(a.path, activate=True)
    texts = ["老街停水没人管", "早上好", "", "😀", "3栋下水道堵了，请尽快处理"]
    assert triage_many(texts) == [triage(t) for t in texts]


def test_cli_register_activate_rollback_list(var: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", synthetic(45, seed=7))
    elsewhere = tmp_path / "elsewhere"
    run("train", "--data", str(data), "--out", str(elsewhere), "--test-split", "0")
    printed = run("register", str(elsewhere), "--note", "试用")
    version = printed.split()[1]
    model = TriageModel.objects.get(version=version)
    assert learn.models_root_path(model.path).is_relative_to(var / "triage")  # copied under VAR_DIR
    assert "active" in run("activate", version)
    assert version in run("list")
    assert "rules alone" in run("rollback", "--task", "category")
    out = run("check", "家里老人走失了")
    assert json.loads(out)["urgency"] == "urgent"


def _columns(
    rows: list[tuple[tuple[float, bool], float, bool]],
) -> tuple[list[tuple[float, bool]], list[float], list[bool]]:
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def test_choose_rule_logit_picks_the_weight_that_matches_the_decisions() -> None:
    """Hand-made: the model is right and the rules over-fire, so the smallest weight wins; then the
    reverse (the model misses what one strong rule catches), so a large weight wins."""
    # (rule score, urgent), model probability, truth
    over_firing = [((1.0, False), 0.1, False)] * 4 + [((0.0, False), 0.9, True)] * 4
    w, f1 = engine.choose_rule_logit(*_columns(over_firing))
    # logit(0.1) = -2.197: weights up to 2 keep the rules below it, 2.5 and 3 raise four false alarms.
    assert [f1[k] for k in ("0.75", "1", "1.5", "2")] == [1.0] * 4
    assert f1["2.5"] == f1["3"] == round(2 * 4 / (2 * 4 + 4), 4)
    assert w == 2.0  # of the tied best, the one nearest the default

    model_misses = [((1.0, False), 0.1, True)] * 4 + [((0.0, False), 0.1, False)] * 4
    w, _ = engine.choose_rule_logit(*_columns(model_misses))
    # -2.197 + w > 0 needs w ≥ 2.5; 2.5 and 3 tie at F1 1.0 and the tie goes to the default (2.5).
    assert w == engine.RULE_LOGIT

    # An urgent rule decides whatever the weight.
    w, f1 = engine.choose_rule_logit([(0.0, True)], [0.01], [True])
    assert set(f1.values()) == {1.0} and w == engine.RULE_LOGIT


def test_a_model_trained_on_enough_decisions_carries_its_rule_weight(var: Path) -> None:
    rnd = random.Random(8)
    few = [(f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[k])}", True) for k in TOPICS for _ in range(5)]
    few += [(f"{rnd.choice(CHATTER)}{rnd.choice(['', '！', '呀'])}", False) for _ in range(15)]
    small = learn.load(learn.train_actionable(few, register=False, out_dir=var / "small", test_split=0))
    assert "rule_logit" not in small.meta  # too few decisions to choose: the engine's default holds
    assert engine.rule_logit_of(small) == engine.RULE_LOGIT

    rows = [(f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[k])}", True) for k in TOPICS for _ in range(10)]
    rows += [(f"{rnd.choice(CHATTER)}{rnd.choice(['', '！', '呀', '~'])}", False) for _ in range(30)]
    model = learn.load(learn.train_actionable(rows, register=False, out_dir=var / "big", test_split=0))
    assert model.meta["rule_logit"] in engine.RULE_LOGIT_CHOICES
    assert model.meta["rule_logit_n"] == 60
    assert set(model.meta["rule_logit_f1"]) == {f"{w:g}" for w in engine.RULE_LOGIT_CHOICES}
    assert engine.rule_logit_of(model) == model.meta["rule_logit"]


def test_the_live_triage_uses_the_models_own_rule_weight(var: Path) -> None:
    """The same model with two rule weights: two strong words against a doubtful model are actionable at
    the default weight (2.5) and outvoted at 0.25."""
    rnd = random.Random(9)
    rows = [(f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[k])}", True) for k in TOPICS for _ in range(10)]
    rows += [(f"{rnd.choice(CHATTER)}{rnd.choice(['', '！', '呀', '~'])}", False) for _ in range(30)]
    model = learn.load(
        learn.train_actionable(rows, register=False, out_dir=var / "m", test_split=0, tune_rule_weight=False)
    )
    text = "今天天气真好，投诉，停水了"  # two strong words (score 2.0) in what the model reads as chatter
    ((score, urgent),) = engine.rule_states([text])
    assert score == 2.0 and not urgent
    p = float(model.predict_proba([learn.to_doc(text)])[0][model.labels.index(learn.ACTIONABLE)])
    assert p < 0.5
    assert engine._combined(p, score, engine.RULE_LOGIT) > 0 > engine._combined(p, score, 0.25)
    assert engine.triage_with([text], actionable=model)[0].actionable
    model.meta["rule_logit"] = 0.25
    assert not engine.triage_with([text], actionable=model)[0].actionable


# Matters a district made 紧急 that no urgent rule names (the burst pipe's 淹了 is one the rules do): falling
# tiles, a balcony rail about to go, a swaying billboard (written here, not third-party data).
URGENT_MATTERS = [
    "水管爆了家里全淹了",
    "外墙瓷砖一直往下掉砸到人",
    "阳台栏杆松了快掉下去了",
    "楼顶广告牌摇摇欲坠",
]


def _urgent_decisions(rnd: random.Random) -> list[tuple[str, bool, bool]]:
    rows = [
        (f"{rnd.choice(PLACES)}{rnd.choice(URGENT_MATTERS)}，{rnd.choice(ENDINGS)}", True, True)
        for _ in range(16)
    ]
    rows += [
        (f"{rnd.choice(PLACES)}{rnd.choice(TOPICS[k])}，{rnd.choice(ENDINGS)}", True, False)
        for k in TOPICS
        for _ in range(10)
    ]
    rows += [(f"{rnd.choice(CHATTER)}{rnd.choice(['', '！', '呀', '~'])}", False, False) for _ in range(30)]
    return rows


def test_urgent_decisions_teach_an_urgency_model_that_adds_to_the_urgent_rules(var: Path) -> None:
    rows = _urgent_decisions(random.Random(11))
    text = "二组楼顶广告牌摇摇欲坠，谁来管管"
    ((_, ruled),) = engine.rule_states([text])
    assert not ruled  # no urgent rule names it

    plain = learn.load(
        learn.train_actionable([r[:2] for r in rows], register=False, out_dir=var / "plain", test_split=0)
    )
    assert plain.urgent is None and "urgent_threshold" not in plain.meta
    assert engine.triage_with([text], actionable=plain)[0].urgency == "normal"

    model = learn.load(learn.train_actionable(rows, register=False, out_dir=var / "u", test_split=0))
    assert model.urgent is not None and model.urgent.task == "urgent"
    assert sorted(model.urgent.labels) == [learn.NOT_URGENT, learn.URGENT]
    assert model.meta["urgent_n"] == 16
    assert model.meta["urgent_threshold"] in learn.URGENT_THRESHOLDS
    assert set(model.meta["urgent_f2"]) == {str(t) for t in learn.URGENT_THRESHOLDS}
    result = engine.triage_with([text], actionable=model)[0]
    assert result.actionable and result.urgency == "urgent"
    assert result.reasons[0].startswith("模型：紧急 ")
    # An urgent rule still flags what it flags; everyday matters and chatter stay 一般.
    assert engine.triage_with(["河边有人落水了"], actionable=model)[0].urgency == "urgent"
    assert engine.triage_with(["村口路灯坏了，没人管", "早上好"], actionable=model)[0].urgency == "normal"
    model.meta["urgent_threshold"] = 1.01  # a threshold nothing reaches: the model adds nothing
    assert engine.triage_with([text], actionable=model)[0].urgency == "normal"


def test_too_few_urgent_decisions_learn_no_urgency_model(var: Path) -> None:
    rows = _urgent_decisions(random.Random(12))
    first_urgent = [i for i, r in enumerate(rows) if r[2]]
    rows = [
        r if i not in first_urgent[learn.URGENT_MIN_DECISIONS - 1 :] else (r[0], True, False)
        for i, r in enumerate(rows)
    ]
    assert sum(r[2] for r in rows) == learn.URGENT_MIN_DECISIONS - 1
    model = learn.load(learn.train_actionable(rows, register=False, out_dir=var / "few", test_split=0))
    assert model.urgent is None and "urgent_model" not in model.meta


def test_a_damaged_urgency_model_does_not_load(var: Path) -> None:
    folder = learn.train_actionable(
        _urgent_decisions(random.Random(13)), register=False, out_dir=var / "d", test_split=0
    )
    target = folder / learn.URGENT_DIR / runtime.RUNTIME_FILE
    target.write_bytes(target.read_bytes() + b"x")
    with pytest.raises(learn.TrainingError, match="does not match"):
        learn.load(folder)
