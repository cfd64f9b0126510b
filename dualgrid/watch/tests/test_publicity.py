"""Publicity (宣传): targets by unit, grid and residents' tags; scheduling; queueing once per group;
delivery per group through a real loopback OneBot server; the pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from shapely.geometry import box

from dualgrid.conftest import Cast
from dualgrid.lib.errors import Conflict, Forbidden, Invalid
from dualgrid.people.models import Resident, ResidentTag, Tag, TagGroup
from dualgrid.places.models import ChatGroup, Grid, GridTier, Platform
from dualgrid.watch import outbox, publicity
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    Notice,
    NoticeStatus,
    Outbox,
    OutboxKind,
    OutboxStatus,
)
from dualgrid.watch.tests.http_fakes import FakeOneBot

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def onebot() -> Iterator[FakeOneBot]:
    server = FakeOneBot().start()
    yield server
    server.stop()


@dataclass
class Groups:
    a: ChatGroup
    b: ChatGroup
    c: ChatGroup
    micro_c: ChatGroup
    wechat_b: ChatGroup  # no bot on WeChat: it cannot be reached
    micro: Grid
    connector: Connector


@pytest.fixture
def groups(cast: Cast, onebot: FakeOneBot) -> Groups:
    connector = Connector.objects.create(
        slug="qq", name="QQ机器人", kind=ConnectorKind.ONEBOT, platform=Platform.QQ, send_url=onebot.url
    )
    micro = Grid.objects.create(
        code="50015210120100101",
        name="白兔村第1网格第1微网格",
        village=cast.village_c,
        town=cast.town_b,
        county=cast.county,
        tier=GridTier.MICRO,
        parent=cast.grid_c,
        boundary=box(105.90, 30.10, 105.95, 30.15).wkt,
    )

    def group(grid: Grid, name: str, external_id: str, platform: str = Platform.QQ) -> ChatGroup:
        return ChatGroup.objects.create(grid=grid, platform=platform, name=name, external_id=external_id)

    return Groups(
        a=group(cast.grid_a, "大佛1网格群", "1001"),
        b=group(cast.grid_b, "大佛2网格群", "1002"),
        c=group(cast.grid_c, "白兔村1网格群", "1003"),
        micro_c=group(micro, "白兔村微网格群", "1004"),
        wechat_b=group(cast.grid_b, "大佛2网格微信群", "wx-2", Platform.WECHAT),
        micro=micro,
        connector=connector,
    )


@pytest.fixture
def alone() -> Tag:
    return Tag.objects.create(group=TagGroup.CARE, code="W01", name="独居老人(测)")


def _tag(resident_grid: Grid, tag: Tag, *, ended: date | None = None) -> ResidentTag:
    resident = Resident.objects.create(grid=resident_grid, name="王婆婆")
    return ResidentTag.objects.create(
        resident=resident, tag=tag, since=date(2026, 1, 1), ended_on=ended, end_reason="迁出" if ended else ""
    )


def _notice(actor, **kw) -> Notice:  # type: ignore[no-untyped-def]
    data = publicity.NoticeInput(
        title=kw.pop("title", "冬季防溺水提醒"),
        body=kw.pop("body", "请看护好孩子，不到堰塘边玩耍。"),
        theme=kw.pop("theme", "防溺水"),
        department=kw.pop("department", "区教委"),
        **kw,
    )
    return publicity.notice_create(actor=actor, data=data, now=T0)


def _names(notice: Notice) -> set[str]:
    return {g.name for g in publicity.notice_target_groups(notice, today=date(2026, 11, 23))}


# --- targets ------------------------------------------------------------------------------------------


def test_unit_target_reaches_every_group_of_its_grids(cast, groups) -> None:  # type: ignore[no-untyped-def]
    notice = _notice(cast.dispatcher, units=[cast.village_a])
    assert _names(notice) == {"大佛1网格群", "大佛2网格群", "大佛2网格微信群"}
    notice = _notice(cast.dispatcher, units=[cast.county])
    assert len(_names(notice)) == 5


def test_grid_target_includes_its_micro_grids(cast, groups) -> None:  # type: ignore[no-untyped-def]
    assert _names(_notice(cast.dispatcher, grids=[cast.grid_c])) == {"白兔村1网格群", "白兔村微网格群"}
    assert _names(_notice(cast.dispatcher, grids=[groups.micro])) == {"白兔村微网格群"}


def test_tag_target_reaches_grids_with_residents_holding_it_today(cast, groups, alone) -> None:  # type: ignore[no-untyped-def]
    _tag(cast.grid_a, alone)
    _tag(cast.grid_b, alone, ended=date(2026, 6, 1))  # ended: no longer counts
    _tag(groups.micro, alone)  # a micro-grid's resident is in the parent grid's group too
    notice = _notice(cast.dispatcher, tags=[alone])
    assert _names(notice) == {"大佛1网格群", "白兔村1网格群", "白兔村微网格群"}


def test_targets_stay_within_the_composers_scope(cast, groups, alone) -> None:  # type: ignore[no-untyped-def]
    _tag(cast.grid_a, alone)
    _tag(cast.grid_c, alone)
    notice = _notice(cast.town_dispatcher, tags=[alone])
    assert _names(notice) == {"白兔村1网格群"}
    with pytest.raises(Invalid) as err:
        _notice(cast.town_dispatcher, grids=[cast.grid_a])
    assert err.value.errors == {"grids": "所选网格不在您的管辖范围内"}
    with pytest.raises(Invalid) as err:
        _notice(cast.town_dispatcher, units=[cast.town_a])
    assert "units" in err.value.errors


def test_compose_validation(cast, groups) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as err:
        _notice(cast.dispatcher, title=" ", body="")
    assert set(err.value.errors) == {"title", "body", "targets"}
    with pytest.raises(Invalid) as err:
        _notice(cast.dispatcher, grids=[cast.grid_a], scheduled_at=T0 - timedelta(hours=1))
    assert "scheduled_at" in err.value.errors
    with pytest.raises(Forbidden):
        _notice(cast.worker_a, grids=[cast.grid_a])


# --- queueing and delivery ----------------------------------------------------------------------------


def test_due_notice_is_queued_once_per_group_and_rerunning_changes_nothing(cast, groups) -> None:  # type: ignore[no-untyped-def]
    later = _notice(cast.dispatcher, units=[cast.county], scheduled_at=T0 + timedelta(hours=2))
    now = _notice(cast.dispatcher, title="防诈骗", units=[cast.village_a])
    assert publicity.queue_due(now=T0) == 1
    rows = Outbox.objects.filter(notice=now)
    assert {r.chat_group.name for r in rows} == {"大佛1网格群", "大佛2网格群"}  # the WeChat group has no bot
    assert all(r.kind == OutboxKind.NOTICE and r.status == OutboxStatus.PENDING for r in rows)
    assert all(r.connector == groups.connector for r in rows)
    assert rows.get(chat_group=groups.a).external_group_id == "1001"
    assert rows.first().text == "【防溺水】防诈骗\n请看护好孩子，不到堰塘边玩耍。\n——区教委"  # type: ignore[union-attr]
    now.refresh_from_db()
    assert (now.status, now.queued_at) == (NoticeStatus.QUEUED, T0)
    assert publicity.queue_due(now=T0) == 0
    # Even queueing the same notice again by hand adds no row (unique per notice and group).
    assert publicity.queue_notice(now, T0) == 0
    assert Outbox.objects.filter(notice=now).count() == 2
    later.refresh_from_db()
    assert later.status == NoticeStatus.SCHEDULED and not Outbox.objects.filter(notice=later).exists()
    assert publicity.queue_due(now=T0 + timedelta(hours=2)) == 1
    assert Outbox.objects.filter(notice=later).count() == 4


def test_cancelled_notice_is_never_queued(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    notice = _notice(cast.dispatcher, grids=[cast.grid_a], scheduled_at=T0 + timedelta(hours=1))
    response = login(cast.dispatcher).post(reverse("watch:notice_cancel", args=[notice.pk]))
    assert response.status_code == 302
    assert publicity.queue_due(now=T0 + timedelta(days=1)) == 0
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CANCELLED
    with pytest.raises(Conflict):
        publicity.notice_cancel(actor=cast.dispatcher, notice_id=notice.pk)


def test_delivery_is_logged_per_group_on_the_notice_page(cast, groups, onebot, login) -> None:  # type: ignore[no-untyped-def]
    onebot.fail_times = 1  # the first group's first try fails
    notice = _notice(cast.dispatcher, units=[cast.village_a])
    with time_machine.travel(T0, tick=False):
        publicity.queue_due()
        assert outbox.process_due() == 1
    assert sorted(m["group_id"] for m in onebot.sent) == [1001, 1002]
    page = login(cast.dispatcher).get(reverse("watch:notice_detail", args=[notice.pk])).content.decode()
    assert "逐群发送情况" in page
    assert "已送达" in page and "待发送" in page and "HTTP 500" in page
    assert "未接入机器人" in page and "大佛2网格微信群" in page
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert outbox.process_due() == 1
    page = login(cast.dispatcher).get(reverse("watch:notice_detail", args=[notice.pk])).content.decode()
    assert "已送达 2" in page


# --- pages --------------------------------------------------------------------------------------------


def test_compose_page_schedules_a_notice(cast, groups, alone, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    assert client.get(reverse("watch:notice_new")).status_code == 200
    response = client.post(
        reverse("watch:notice_new"),
        {
            "title": "防范养老诈骗",
            "body": "不轻信“免费体检、保健品”推销。",
            "theme": "防范电信诈骗",
            "department": "区公安分局",
            "grids": [cast.grid_a.pk],
            "tags": [alone.pk],
            "scheduled_at": "2099-01-05T09:30",
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get(title="防范养老诈骗")
    assert notice.status == NoticeStatus.SCHEDULED
    assert notice.scheduled_at == datetime(2099, 1, 5, 1, 30, tzinfo=UTC)
    assert list(notice.grids.all()) == [cast.grid_a] and list(notice.tags.all()) == [alone]
    page = client.get(reverse("watch:notice_detail", args=[notice.pk])).content.decode()
    assert "待到时发送" in page and "大佛1网格群" in page


def test_compose_page_errors_keep_the_input(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.town_dispatcher)
    response = client.post(reverse("watch:notice_new"), {"title": "无对象", "body": "内容"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "请至少选择一个发送对象" in page and 'value="无对象"' in page
    response = client.post(
        reverse("watch:notice_new"), {"title": "越权", "body": "内容", "grids": [cast.grid_a.pk]}
    )
    assert response.status_code == 422  # grid A is not offered to town B
    assert not Notice.objects.exists()


def test_list_groups_notices_by_iso_week_with_the_theme(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    _notice(cast.dispatcher, title="周一防溺水", grids=[cast.grid_a])
    _notice(
        cast.dispatcher,
        title="周日防溺水",
        grids=[cast.grid_a],
        scheduled_at=T0 + timedelta(days=6, hours=12),
    )
    _notice(
        cast.dispatcher,
        title="下周防诈骗",
        theme="防范电信诈骗",
        grids=[cast.grid_a],
        scheduled_at=T0 + timedelta(days=7),
    )
    client = login(cast.dispatcher)
    page = client.get(reverse("watch:notices")).content.decode()
    assert "2026年第48周（11-23至11-29）" in page and "2026年第49周（11-30至12-06）" in page
    assert page.index("下周防诈骗") < page.index("第48周") < page.index("周日防溺水")
    assert "本周主题：<strong>防溺水</strong>" in page and "本周主题：<strong>防范电信诈骗</strong>" in page
    weeks = publicity.by_week(Notice.objects.all())
    assert [len(w.notices) for w in weeks] == [1, 2]
    # The theme of the week prefills the next notice's form.
    with time_machine.travel(T0 + timedelta(hours=1)):
        assert 'value="防溺水"' in client.get(reverse("watch:notice_new")).content.decode()


def test_notice_pages_are_scoped(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    county = _notice(cast.dispatcher, title="县里的宣传", units=[cast.town_a])
    town = _notice(cast.town_dispatcher, title="镇里的宣传", grids=[cast.grid_c])
    page = login(cast.town_dispatcher).get(reverse("watch:notices")).content.decode()
    assert "镇里的宣传" in page and "县里的宣传" not in page
    assert (
        login(cast.town_dispatcher).get(reverse("watch:notice_detail", args=[county.pk])).status_code == 404
    )
    page = login(cast.dispatcher).get(reverse("watch:notices")).content.decode()
    assert "镇里的宣传" in page and "县里的宣传" in page
    assert login(cast.leader).get(reverse("watch:notice_detail", args=[town.pk])).status_code == 200
    assert login(cast.leader).get(reverse("watch:notice_new")).status_code == 403
    assert login(cast.worker_a).get(reverse("watch:notices")).status_code == 403
