"""Storing group messages: once per id, in one transaction, with triage, quarantine and dedup."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dualgrid.cases.tests.factories import report
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.watch.inbound import Inbound, ingest, map_quarantined, purge_chatter, purge_patrol_logs
from dualgrid.watch.models import Connector, GroupMessage, MessageKind, MessageState, QuarantinedGroup


@pytest.fixture
def hook(cast):  # type: ignore[no-untyped-def]
    connector = Connector.objects.create(slug="t", name="测试接入", platform=Platform.WECHAT)
    group = ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.WECHAT, name="大佛1群", external_id="g-a"
    )
    return connector, group


def msg(mid: str, text: str = "早上好", group: str = "g-a", **kw: object) -> Inbound:
    return Inbound(external_id=mid, group_id=group, text=text, sender_name="居民甲", **kw)  # type: ignore[arg-type]


def test_a_message_is_stored_once_however_often_it_arrives(hook) -> None:  # type: ignore[no-untyped-def]
    connector, group = hook
    first = ingest(connector, [msg("1"), msg("2"), msg("2")])
    again = ingest(connector, [msg("1"), msg("2"), msg("3")])
    assert (first.stored, first.duplicates) == (2, 1)
    assert (again.stored, again.duplicates) == (1, 2)
    assert GroupMessage.objects.count() == 3
    stored = GroupMessage.objects.get(external_id="1")
    assert stored.chat_group == group and stored.grid_id == group.grid_id


def test_the_same_id_from_another_connector_is_another_message(hook) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    other = Connector.objects.create(slug="t2", name="另一接入", platform=Platform.WECHAT)
    ingest(connector, [msg("1")])
    ingest(other, [msg("1")])
    assert GroupMessage.objects.count() == 2


def test_chatter_stays_out_of_the_feed_and_a_fight_is_flagged_urgent(hook) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    ingest(connector, [msg("1", "早上好，今天天气不错"), msg("2", "9社龚氏兄弟因堰塘使用又打起来了，快来人")])
    chatter = GroupMessage.objects.get(external_id="1")
    fight = GroupMessage.objects.get(external_id="2")
    assert chatter.state == MessageState.CHATTER and not chatter.actionable
    assert fight.state == MessageState.FLAGGED and fight.actionable
    assert fight.urgency == "urgent"
    assert fight.reasons  # the words or rules that fired are kept with the message


def test_non_text_messages_are_stored_as_such_and_not_triaged(hook) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    ingest(
        connector, [Inbound(external_id="p", group_id="g-a", kind=MessageKind.IMAGE, attachment={"url": "x"})]
    )
    photo = GroupMessage.objects.get()
    assert photo.kind == MessageKind.IMAGE and photo.state == MessageState.CHATTER
    assert photo.reasons == [] and photo.attachment == {"url": "x"}


def test_unknown_groups_are_quarantined_then_mapped_into_the_feed(hook) -> None:  # type: ignore[no-untyped-def]
    connector, group = hook
    result = ingest(
        connector, [msg("1", "家里老人走失了，穿蓝衣服，大家帮忙找找", group="g-x", group_name="新建群")]
    )
    assert result.quarantined == 1
    kept = GroupMessage.objects.get()
    assert kept.state == MessageState.QUARANTINED and kept.chat_group is None
    row = QuarantinedGroup.objects.get()
    assert (row.external_group_id, row.group_name, row.message_count) == ("g-x", "新建群", 1)

    assert map_quarantined(row, group) == 1
    kept.refresh_from_db()
    assert kept.state == MessageState.FLAGGED and kept.grid_id == group.grid_id
    # Later messages with that id now go to the mapped group, not to quarantine.
    ingest(connector, [msg("2", "早上好", group="g-x")])
    assert GroupMessage.objects.get(external_id="2").chat_group == group


def test_a_future_time_is_the_senders_clock_and_is_replaced(hook) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    now = timezone.now()
    ingest(
        connector,
        [msg("1", sent_at=now + timedelta(hours=3)), msg("2", sent_at=now - timedelta(minutes=5))],
        now=now,
    )
    skewed, fine = GroupMessage.objects.get(external_id="1"), GroupMessage.objects.get(external_id="2")
    assert skewed.clock_skew and skewed.sent_at == now
    assert not fine.clock_skew and fine.sent_at == now - timedelta(minutes=5)


def test_huge_emoji_and_nul_texts_are_kept_safely(hook, settings) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    settings.DUALGRID = {**settings.DUALGRID, "MAX_MESSAGE_CHARS": 100}
    ingest(connector, [msg("1", "漏水" * 200), msg("2", "😀👍 hello 你好 \x00 مرحبا")])
    huge, odd = GroupMessage.objects.get(external_id="1"), GroupMessage.objects.get(external_id="2")
    assert huge.truncated and len(huge.text) == 100
    assert odd.text == "😀👍 hello 你好  مرحبا" and not odd.truncated


def test_a_repeat_of_an_open_case_in_the_grid_is_linked_not_raised_again(cast, hook) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    case = report(cast, description="小区下水管堵塞，一楼屋里已经灌水了")
    ingest(
        connector,
        [msg("1", "小区下水管堵塞了，一楼屋里已经灌水了"), msg("2", "路灯坏了一个星期了，晚上很黑")],
    )
    repeat, other = GroupMessage.objects.get(external_id="1"), GroupMessage.objects.get(external_id="2")
    assert repeat.state == MessageState.LINKED and repeat.duplicate_of == case
    assert other.state == MessageState.FLAGGED and other.duplicate_of is None


def test_retention_removes_old_chatter_only(hook, settings) -> None:  # type: ignore[no-untyped-def]
    connector, _ = hook
    old = datetime(2025, 1, 1, tzinfo=UTC)
    ingest(
        connector,
        [msg("1", "早上好", sent_at=old), msg("2", "老人走失了，大家帮忙找找", sent_at=old), msg("3")],
    )
    assert purge_chatter() == 1
    assert set(GroupMessage.objects.values_list("external_id", flat=True)) == {"2", "3"}


def test_retention_removes_patrol_logs_older_than_the_setting(cast, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from dualgrid.watch.models import PatrolLog

    settings.DUALGRID = {**settings.DUALGRID, "PATROL_LOG_RETENTION_DAYS": 400}
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    for days in (401, 399, 1):
        PatrolLog.objects.create(user=cast.worker_a, at=now - timedelta(days=days))
    assert purge_patrol_logs(now=now) == 1
    assert sorted((now - at).days for at in PatrolLog.objects.values_list("at", flat=True)) == [1, 399]
    settings.DUALGRID = {**settings.DUALGRID, "PATROL_LOG_RETENTION_DAYS": 0}  # 0 keeps them for ever
    assert purge_patrol_logs(now=now + timedelta(days=1000)) == 0


def test_a_fight_in_another_group_of_the_grid_is_raised_not_linked(cast, hook) -> None:  # type: ignore[no-untyped-def]
    """The words repeat the open case, the 社 and the family do not: a second incident stays flagged."""
    connector, _ = hook
    case = report(cast, description="9社龚氏兄弟因堰塘使用又打起来了")
    ingest(connector, [msg("1", "7社朱氏兄弟因堰塘放水打起来了"), msg("2", "九社龚氏兄弟又在堰塘打起来了")])
    other, repeat = GroupMessage.objects.get(external_id="1"), GroupMessage.objects.get(external_id="2")
    assert other.state == MessageState.FLAGGED and other.duplicate_of is None
    assert repeat.state == MessageState.LINKED and repeat.duplicate_of == case
