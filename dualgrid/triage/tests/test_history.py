"""Learning from the district's own history: closed cases → category model, patrol-feed decisions →
actionability model. The history is made through the real services (case workflow, ingest, feed)."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from dualgrid.cases.models import Case, Status
from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.triage import engine, history, learn
from dualgrid.triage.models import TriageModel
from dualgrid.watch import feed
from dualgrid.watch.inbound import Inbound, ingest
from dualgrid.watch.models import Connector, GroupMessage, MessageState

pytestmark = pytest.mark.django_db

# Synthetic matters written here (not third-party data): parking (T0101), sewers (T0201), disputes (T03).
MATTERS = {
    "T0101": ["车辆乱停堵住消防通道", "小区门口乱停车", "僵尸车占用车位半年", "货车乱停挡住单元门"],
    "T0201": ["下水道堵了污水冒出来", "化粪池满了臭气熏天", "排水沟堵塞雨水排不出去", "下水道反水进了家里"],
    "T03": ["邻居为宅基地地界吵起来", "两家因堰塘放水争执不下", "兄弟分家闹矛盾", "邻里因占地纠纷堵门"],
}
PLACES = ["3栋", "幸福小区", "村口", "二组", "老街", "5单元"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("triage", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def var(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    settings.DUALGRID = {**settings.DUALGRID, "TRIAGE_CACHE_SECONDS": 0}
    return settings.VAR_DIR


def closed_case(cast: Any, description: str, category: str | None) -> Case:
    """Reported, accepted, dispatched, signed, resolved, verified and rated: a closed case."""
    case = report(cast, description=description, category=category)
    if case.status == Status.NEW:
        case = act(cast.dispatcher, case, "accept")
    if case.status == Status.PENDING_DISPATCH:
        case = act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk)
    # A routed category may have gone straight to a department: its handler signs and resolves.
    doer = cast.handler if case.assigned_department_id else cast.worker_a
    case = act(doer, case, "sign")
    case = act(doer, case, "resolve", "已处理")
    case = act(cast.dispatcher, case, "verify")
    case = rate(case, "satisfied")
    assert case.status == Status.CLOSED
    return case


def district_history(cast: Any) -> None:
    for code, matters in MATTERS.items():
        for i, matter in enumerate(matters):
            closed_case(cast, f"{PLACES[i % len(PLACES)]}{matter}，请尽快处理", code)
    # Left out: an uncategorised closed case, a void one, one still open.
    closed_case(cast, "有件事想反映一下", None)
    void = act(cast.dispatcher, report(cast, description="有件事重复反映"), "accept")
    act(cast.dispatcher, void, "reject", "重复反映")
    report(cast, description="路灯不亮", category="T0101")


def test_case_examples_use_closed_categorised_cases_only(cast) -> None:
    district_history(cast)
    examples, stats = history.case_examples()
    assert stats.labels == {"T0101": 4, "T0201": 4, "T03": 4}
    assert stats.skipped == {"uncategorised": 1, "void": 1, "not closed": 1}
    assert stats.used == len(examples) == 12
    assert all(e.doc for e in examples)
    # Level 1 of the tree: T0101 → T01, T0201 → T02, T03 stays.
    top, _ = history.case_examples(level=1)
    assert {e.label for e in top} == {"T01", "T02", "T03"}
    # A category below min_per_label is left out, and said so.
    few, stats = history.case_examples(min_per_label=5)
    assert few == [] and stats.skipped["category with < 5 cases"] == 12


def test_case_examples_since_counts_the_closing_day(cast) -> None:
    with time_machine.travel(datetime(2026, 3, 1, 2, 0, tzinfo=UTC), tick=False):
        closed_case(cast, "村口下水道堵了", "T0201")
    with time_machine.travel(datetime(2026, 3, 5, 2, 0, tzinfo=UTC), tick=False):
        closed_case(cast, "老街乱停车", "T0101")
    examples, _ = history.case_examples(since=date(2026, 3, 5), min_per_label=1)
    assert [e.label for e in examples] == ["T0101"]


def test_case_text_does_not_double_a_prefilled_title() -> None:
    assert history.case_text("下水道堵了", "下水道堵了，三天了") == "下水道堵了，三天了"
    assert history.case_text("乱停车", "消防通道被堵") == "乱停车\n消防通道被堵"


def test_train_from_cases_registers_and_activates_a_category_model(cast, var) -> None:
    district_history(cast)
    out = run("train", "--from-cases", "--register", "--activate", "--note", "本区历史")
    assert "closed cases: 12 rows" in out and "void 1" in out and "uncategorised 1" in out
    model = TriageModel.objects.get(active=True)
    assert model.task == "category"
    assert sorted(model.labels) == ["T0101", "T0201", "T03"]
    assert Path(var).resolve() in learn.models_root_path(model.path).resolve().parents
    engine.invalidate()
    assert engine.active_versions()["category"] == model.version
    # A message no rule names gets its category from the district's model.
    result = engine.triage("幸福小区化粪池满了，请尽快处理")
    assert result.actionable and result.model_version == model.version


def test_train_from_cases_with_out_dir_and_level(cast, var, tmp_path: Path) -> None:
    district_history(cast)
    out = run("train", "--from-cases", "--level", "1", "--out", str(tmp_path / "m"))
    assert "saved to" in out and not TriageModel.objects.exists()
    assert sorted(learn.load(tmp_path / "m").labels) == ["T01", "T02", "T03"]


def test_train_from_cases_refuses_an_empty_history_and_the_wrong_task(cast, var) -> None:
    with pytest.raises(CommandError, match="no example"):
        run("train", "--from-cases")
    with pytest.raises(CommandError, match="category task"):
        run("train", "--from-cases", "--task", "actionable")
    with pytest.raises(CommandError, match="--since goes with"):
        run("train", "--data", "x.jsonl", "--since", "2026-01-01")


# —— the patrol feed ——

FLAGGED_REAL = [
    "幸福小区3栋下水道堵了，污水冒到路上",
    "二组有人烧垃圾，黑烟很大",
    "村口路灯坏了一个月，晚上看不见路",
    "老街两家为地界吵起来了",
    "5单元楼道里电动车充电，安全隐患",
    "菜市场旁占道经营堵住路口",
]
# Flagged by a strong word, but nothing to act on (a worker dismisses them).
FLAGGED_NOT = [
    "投诉一下今天的天气，太热了",
    "举报我家猫又偷吃鱼",
    "求助：今晚吃火锅还是烧烤？",
    "反映一下，这个月工资又花光了",
    "举报一下，老王钓鱼又空军了",
]


@pytest.fixture
def connector(db: None) -> Connector:
    return Connector.objects.create(slug="test", name="测试接入", platform=Platform.WECHAT)


@pytest.fixture
def group_a(cast: Any) -> ChatGroup:
    return ChatGroup.objects.create(grid=cast.grid_a, name="大佛社区1网格居民群", external_id="a@chatroom")


def patrol_history(cast: Any, connector: Connector, group: ChatGroup) -> dict[str, GroupMessage]:
    texts = [*FLAGGED_REAL, *FLAGGED_NOT, "早上好", "今天天气不错", "重复：幸福小区下水道又堵了，没人管"]
    ingest(
        connector,
        [
            Inbound(external_id=f"h{i}", group_id=group.external_id, text=t, sender_name="居民")
            for i, t in enumerate(texts)
        ],
    )
    by_text = {m.text: m for m in GroupMessage.objects.all()}
    assert by_text["早上好"].state == MessageState.CHATTER
    for text in [*FLAGGED_REAL, *FLAGGED_NOT]:
        assert by_text[text].state == MessageState.FLAGGED, text
    for text in FLAGGED_REAL:
        message = by_text[text]
        feed.message_make_case(actor=cast.worker_a, message_id=message.pk, draft=feed.case_draft(message))
    reasons = ["广告", "闲聊", "其他", "闲聊", "广告"]
    for text, reason in zip(FLAGGED_NOT, reasons, strict=True):
        feed.message_dismiss(
            actor=cast.worker_a,
            message_id=by_text[text].pk,
            reason=reason,
            note="不是事" if reason == "其他" else "",
        )
    repeat = by_text["重复：幸福小区下水道又堵了，没人管"]
    if repeat.state == MessageState.FLAGGED:
        feed.message_dismiss(actor=cast.worker_a, message_id=repeat.pk, reason="重复")
    return by_text


def test_feed_rows_are_human_decisions_then_never_flagged_chatter(cast, connector, group_a) -> None:
    patrol_history(cast, connector, group_a)
    rows, stats = history.feed_rows(chatter_per_decision=0)
    assert sorted(t for t, y, _ in rows if y) == sorted(FLAGGED_REAL)
    assert sorted(t for t, y, _ in rows if not y) == sorted(FLAGGED_NOT)
    assert not any(urgent for *_, urgent in rows)  # none of these cases is 紧急
    # A dismissal as 重复 says nothing against the message (the matter was real).
    assert "重复：幸福小区下水道又堵了，没人管" not in {t for t, *_ in rows}
    assert stats.labels == {"made into a case": 6, "dismissed": 5}

    # By default the never-flagged messages show the model what chatter looks like (here only two exist).
    rows, stats = history.feed_rows()
    assert rows[:11] == history.feed_rows(chatter_per_decision=0)[0]
    assert sorted(rows[11:]) == [("今天天气不错", False, False), ("早上好", False, False)]
    assert stats.labels == {"made into a case": 6, "dismissed": 5, "never flagged, as chatter": 2}


def test_never_flagged_chatter_is_capped_per_decision(cast, connector, group_a) -> None:
    chatter = [f"第{i}条：今天天气不错，大家早点休息" for i in range(40)]
    ingest(
        connector,
        [Inbound(external_id=f"c{i}", group_id=group_a.external_id, text=t) for i, t in enumerate(chatter)]
        + [Inbound(external_id="d1", group_id=group_a.external_id, text="村口下水道堵了，没人管")]
        + [Inbound(external_id="d2", group_id=group_a.external_id, text="投诉一下今天的天气，太热了")],
    )
    assert GroupMessage.objects.filter(state=MessageState.CHATTER).count() == 40
    feed.message_make_case(
        actor=cast.worker_a,
        message_id=GroupMessage.objects.get(external_id="d1").pk,
        draft=feed.case_draft(GroupMessage.objects.get(external_id="d1")),
    )
    feed.message_dismiss(
        actor=cast.worker_a, message_id=GroupMessage.objects.get(external_id="d2").pk, reason="闲聊"
    )
    for per_decision, expected in ((1, 2), (2.5, 5), (0, 0)):
        rows, stats = history.feed_rows(chatter_per_decision=per_decision)
        extra = rows[2:]
        assert len(extra) == expected
        assert all(t in chatter and not y and not u for t, y, u in extra)
        assert len(set(extra)) == expected  # drawn without repeats
    assert history.feed_rows(seed=3)[0] == history.feed_rows(seed=3)[0]


def test_a_message_made_into_an_urgent_case_is_an_urgent_decision(cast, connector, group_a) -> None:
    ingest(
        connector,
        [Inbound(external_id="u1", group_id=group_a.external_id, text="5单元楼道电梯困人了，投诉物业")],
    )
    message = GroupMessage.objects.get(external_id="u1")
    draft = dataclasses.replace(feed.case_draft(message), urgency="urgent")  # the worker marks it 紧急
    feed.message_make_case(actor=cast.worker_a, message_id=message.pk, draft=draft)
    rows, stats = history.feed_rows()
    assert rows == [("5单元楼道电梯困人了，投诉物业", True, True)]
    assert stats.labels == {"made into a case": 1, "of which 紧急": 1}


def test_feed_rows_skip_handled_offline(cast, connector, group_a) -> None:
    ingest(
        connector, [Inbound(external_id="o1", group_id=group_a.external_id, text="村口下水道堵了，没人管")]
    )
    message = GroupMessage.objects.get(external_id="o1")
    feed.message_dismiss(actor=cast.worker_a, message_id=message.pk, reason="已线下处理")
    rows, stats = history.feed_rows()
    assert rows == [] and stats.skipped == {"dismissed as 已线下处理": 1}


def test_train_actionable_from_feed_registers_a_version(cast, connector, group_a, var) -> None:
    patrol_history(cast, connector, group_a)
    out = run("train-actionable", "--from-feed", "--register")
    assert "patrol feed decisions: 13 rows" in out  # 11 decisions and the 2 never-flagged messages
    assert "never flagged, as chatter 2" in out and "show the model what chatter looks like" in out
    assert "rule weight: the default 2.5 (too few decisions to learn one)" in out  # 11 < 20 of each
    assert "紧急: the urgent rules alone (an urgency model needs 10 紧急 decisions)" in out
    model = TriageModel.objects.get()
    assert model.task == "actionable" and not model.active
    assert sorted(model.labels) == ["actionable", "chatter"]
    out = run("train-actionable", "--from-feed", "--since", "2000-01-01", "--activate")
    assert "(active)" in out
    engine.invalidate()
    assert engine.active_versions()["actionable"] == TriageModel.objects.get(active=True).version


def test_train_actionable_from_feed_needs_both_answers(cast, connector, group_a, var) -> None:
    ingest(
        connector, [Inbound(external_id="n1", group_id=group_a.external_id, text="村口下水道堵了，没人管")]
    )
    message = GroupMessage.objects.get(external_id="n1")
    feed.message_make_case(actor=cast.worker_a, message_id=message.pk, draft=feed.case_draft(message))
    with pytest.raises(CommandError, match="at least two examples"):
        run("train-actionable", "--from-feed")
    assert not TriageModel.objects.exists()


def test_a_model_learnt_from_the_feed_does_not_flag_everyday_chatter(cast, connector, group_a, var) -> None:
    """Decisions alone hold no ordinary chatter: a model learnt from them alone flags "早上好". With the
    never-flagged messages as chatter it does not (bench/triage_feed_sim.py measures the same on real text)."""
    chatter = [
        "早上好",
        "收到",
        "谢谢群主",
        "晚上一起吃饭吗",
        "明天几点集合",
        "今天天气不错",
        "好的好的",
        "孩子放学了吗",
    ]
    ingest(
        connector,
        [
            Inbound(external_id=f"c{i}", group_id=group_a.external_id, text=f"{t}{'！' * (i % 3)}")
            for i, t in enumerate(chatter * 3)
        ],
    )
    patrol_history(cast, connector, group_a)
    plain, _ = history.feed_rows(chatter_per_decision=0)
    with_chatter, _ = history.feed_rows(chatter_per_decision=2)
    probe = ["收到，谢谢群主", "早上好呀", "晚上一起吃饭吗"]
    flagged = {}
    for name, rows in (("plain", plain), ("with chatter", with_chatter)):
        model = learn.load(learn.train_actionable(rows, register=False, out_dir=var / name, test_split=0))
        flagged[name] = sum(r.actionable for r in engine.triage_with(probe, actionable=model))
    assert flagged == {"plain": 3, "with chatter": 0}
