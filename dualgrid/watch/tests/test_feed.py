"""巡群, the patrol feed: scope, order, the conversation around a message, 转为事件 and 忽略 (once, even
when two people tap at once), the patrol log, and urgent alerts."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from dualgrid.accounts.models import User
from dualgrid.cases.models import Case, Channel, Status, Urgency
from dualgrid.lib.errors import Conflict
from dualgrid.people.models import Assignment, Staff, StaffRole
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.watch import feed
from dualgrid.watch.models import Connector, GroupMessage, MessageState, PatrolLog

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture
def connector(db: None) -> Connector:
    return Connector.objects.create(slug="test", name="测试接入", platform=Platform.WECHAT)


@pytest.fixture
def group_a(cast: Any) -> ChatGroup:
    return ChatGroup.objects.create(grid=cast.grid_a, name="大佛社区1网格居民群", external_id="a@chatroom")


@pytest.fixture
def group_b(cast: Any) -> ChatGroup:
    return ChatGroup.objects.create(grid=cast.grid_b, name="大佛社区2网格居民群", external_id="b@chatroom")


_seq = iter(range(1, 10**6))


def post(
    connector: Connector,
    group: ChatGroup,
    text: str,
    *,
    at: datetime = NOW,
    state: str = MessageState.FLAGGED,
    urgency: str = Urgency.NORMAL,
    **fields: Any,
) -> GroupMessage:
    """A stored, triaged message (the feed does not care how triage decided)."""
    flagged = state != MessageState.CHATTER
    values: dict[str, Any] = {
        "sender_name": "龚大姐",
        "actionable": flagged,
        "triage_kind": "dispute" if flagged else "",
        "category_code": "T03" if flagged else "",
        "confidence": 0.87 if flagged else 0.0,
        "reasons": ["命中关键词：打起来"] if flagged else [],
        **fields,
    }
    return GroupMessage.objects.create(
        connector=connector,
        external_id=f"m{next(_seq)}",
        external_group_id=group.external_id,
        chat_group=group,
        grid=group.grid,
        text=text,
        sent_at=at,
        received_at=at,
        state=state,
        urgency=urgency,
        **values,
    )


# --- scope and order ---------------------------------------------------------------------------------


def test_worker_sees_flagged_messages_of_their_grids_only(cast, connector, group_a, group_b, login) -> None:
    mine = post(connector, group_a, "9社龚氏兄弟因堰塘使用又打起来了")
    post(connector, group_a, "早上好", state=MessageState.CHATTER)
    other = post(connector, group_b, "下水道堵了，污水漫到路上")
    response = login(cast.worker_a).get("/watch/")
    assert response.status_code == 200
    ids = [m.pk for m in response.context["page"]]
    assert ids == [mine.pk]
    assert other.text not in response.content.decode()


def test_pending_lists_urgent_first_then_newest(cast, connector, group_a) -> None:
    old_urgent = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW - timedelta(hours=3))
    new_normal = post(connector, group_a, "路灯坏了", at=NOW - timedelta(minutes=5))
    new_urgent = post(connector, group_a, "有人落水", urgency=Urgency.URGENT, at=NOW - timedelta(hours=1))
    old_normal = post(connector, group_a, "垃圾没人收", at=NOW - timedelta(hours=5))
    order = [m.pk for m in feed.feed_list(cast.worker_a, "pending")]
    assert order == [new_urgent.pk, old_urgent.pk, new_normal.pk, old_normal.pk]


def test_dispatcher_sees_their_unit_and_not_another_town(cast, connector, group_a) -> None:
    message = post(connector, group_a, "堰塘纠纷")
    assert list(feed.feed_list(cast.dispatcher)) == [message]
    assert list(feed.feed_list(cast.town_dispatcher)) == []


def test_worker_of_another_grid_gets_404_on_every_message_page(cast, connector, group_b, login) -> None:
    message = post(connector, group_b, "下水道堵了")
    client = login(cast.worker_a)
    assert client.get(f"/watch/messages/{message.pk}/context/").status_code == 404
    assert client.get(f"/watch/messages/{message.pk}/case/").status_code == 404
    assert client.post(f"/watch/messages/{message.pk}/case/", _case_form()).status_code == 404
    assert client.post(f"/watch/messages/{message.pk}/dismiss/", {"reason": "闲聊"}).status_code == 404
    message.refresh_from_db()
    assert message.state == MessageState.FLAGGED
    assert Case.objects.count() == 0


def test_leader_reads_the_feed_but_may_not_act(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "堰塘纠纷")
    client = login(cast.leader)
    response = client.get("/watch/")
    assert response.status_code == 200
    assert "转为事件" not in response.content.decode()
    assert client.get(f"/watch/messages/{message.pk}/case/").status_code == 403
    assert client.post(f"/watch/messages/{message.pk}/case/", _case_form()).status_code == 403
    assert client.post(f"/watch/messages/{message.pk}/dismiss/", {"reason": "闲聊"}).status_code == 403
    message.refresh_from_db()
    assert message.state == MessageState.FLAGGED


def test_calltakers_and_handlers_have_no_feed(cast, login) -> None:
    assert login(cast.calltaker).get("/watch/").status_code == 403
    assert login(cast.handler).get("/watch/").status_code == 403


def test_context_shows_five_messages_before_and_after_in_the_same_group(
    cast, connector, group_a, group_b, login
) -> None:
    chatter = [
        post(connector, group_a, f"闲聊{i}", state=MessageState.CHATTER, at=NOW + timedelta(minutes=i))
        for i in range(-7, 8)
        if i
    ]
    post(connector, group_b, "别的群", state=MessageState.CHATTER, at=NOW)
    message = post(connector, group_a, "他们又打起来了", at=NOW)
    response = login(cast.worker_a).get(f"/watch/messages/{message.pk}/context/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    thread = response.context["thread"]
    assert [m.text for m in thread] == [
        *[f"闲聊{i}" for i in range(-5, 0)],
        "他们又打起来了",
        *[f"闲聊{i}" for i in range(1, 6)],
    ]
    assert len(chatter) == 14
    assert "thread-focus" in response.content.decode()


def test_all_tab_is_the_raw_stream_of_their_groups(cast, connector, group_a, group_b, login) -> None:
    post(connector, group_a, "早上好", state=MessageState.CHATTER, at=NOW - timedelta(minutes=1))
    post(connector, group_a, "堰塘纠纷", at=NOW)
    post(connector, group_b, "别的网格", state=MessageState.CHATTER)
    response = login(cast.worker_a).get("/watch/?tab=all", HTTP_HX_REQUEST="true")
    assert [m.text for m in response.context["page"]] == ["堰塘纠纷", "早上好"]
    assert "别的网格" not in response.content.decode()


# --- 转为事件 ------------------------------------------------------------------------------------------


def _case_form(**overrides: str) -> dict[str, str]:
    return {
        "title": "9社龚氏兄弟因堰塘使用又打起来了",
        "description": "9社龚氏兄弟因堰塘使用又打起来了，网格员快来看看",
        "category_code": "T03",
        "urgency": Urgency.URGENT,
        "reporter_name": "龚大姐",
        **overrides,
    }


def test_case_form_is_prefilled_from_the_message(cast, connector, group_a, login) -> None:
    message = post(
        connector,
        group_a,
        "9社龚氏兄弟因堰塘使用又打起来了哦，网格员快来看看，再不来要出人命了\n第二行",
        urgency=Urgency.URGENT,
        sender_phone="13800001234",
    )
    response = login(cast.worker_a).get(f"/watch/messages/{message.pk}/case/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["title"] == message.text[:30]
    assert initial["description"].endswith("第二行")
    assert initial["category_code"] == "T03"
    assert initial["urgency"] == Urgency.URGENT
    assert initial["reporter_name"] == "龚大姐"
    body = response.content.decode()
    assert "138****1234" in body and "13800001234" not in body
    assert cast.grid_a.name in body


def test_category_unknown_to_the_tree_is_left_to_the_centre(cast, connector, group_a) -> None:
    message = post(connector, group_a, "有人在群里卖假药", category_code="ZZ99")
    assert feed.case_draft(message).category_code == ""


def test_make_case_registers_a_group_case_and_links_the_message(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "堰塘打起来了", urgency=Urgency.URGENT, sender_phone="13800001234")
    response = login(cast.worker_a).post(
        f"/watch/messages/{message.pk}/case/", _case_form(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.channel == Channel.GROUP
    assert case.grid_id == cast.grid_a.pk and case.village_id == cast.village_a.pk
    assert case.category_id == cast.dispute.pk
    assert case.urgency == Urgency.URGENT
    assert case.reporter_name == "龚大姐" and case.reporter_phone == "13800001234"
    assert case.created_by_id == cast.worker_a.pk
    assert case.events.get(action="create").note == "通过网格群登记"
    message.refresh_from_db()
    assert message.state == MessageState.CASE
    assert message.case_id == case.pk
    assert message.handled_by_id == cast.worker_a.pk and message.handled_at is not None
    body = response.content.decode()
    assert f"已转为事件 {case.number}" in body
    assert PatrolLog.objects.filter(user=cast.worker_a, action="make_case").count() == 1


def test_made_case_goes_through_normal_routing(cast, connector, group_a) -> None:
    message = post(connector, group_a, "下水道堵了", category_code="T0201")
    _, case = feed.message_make_case(
        actor=cast.worker_a,
        message_id=message.pk,
        draft=feed.CaseDraft(title="下水道堵了", description="下水道堵了", category_code="T0201"),
    )
    assert case.status == Status.PENDING_SIGN
    assert case.assigned_department_id == cast.housing.pk


def test_second_tap_gets_a_conflict_and_there_is_one_case(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "堰塘打起来了")
    client = login(cast.worker_a)
    first = client.post(f"/watch/messages/{message.pk}/case/", _case_form(), HTTP_HX_REQUEST="true")
    second = client.post(f"/watch/messages/{message.pk}/case/", _case_form(), HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert second.status_code == 409
    number = Case.objects.get().number
    assert "该消息已由worker_a于" in second.content.decode()
    assert f"转为事件{number}，无需重复处理" in second.content.decode()
    assert Case.objects.count() == 1


def test_no_case_when_someone_dismissed_it_first(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "堰塘打起来了")
    feed.message_dismiss(actor=cast.dispatcher, message_id=message.pk, reason="已线下处理")
    response = login(cast.worker_a).post(f"/watch/messages/{message.pk}/case/", _case_form())
    assert response.status_code == 409
    assert "已由dispatcher于" in response.content.decode()
    assert "忽略（已线下处理）" in response.content.decode()
    assert Case.objects.count() == 0


def test_invalid_case_input_keeps_the_message_flagged(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "堰塘打起来了")
    response = login(cast.worker_a).post(
        f"/watch/messages/{message.pk}/case/", _case_form(description=""), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert Case.objects.count() == 0
    message.refresh_from_db()
    assert message.state == MessageState.FLAGGED


@pytest.mark.django_db(transaction=True)
def test_two_workers_tapping_at_once_make_one_case(cast, connector, group_a) -> None:
    other = User.objects.create_user("worker_a2", role="gridworker", display_name="另一名网格员")
    other.grids.add(cast.grid_a)
    message = post(connector, group_a, "堰塘打起来了")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def tap(user: Any) -> None:
        barrier.wait()
        try:
            feed.message_make_case(
                actor=user,
                message_id=message.pk,
                draft=feed.CaseDraft(title="堰塘纠纷", description="堰塘打起来了", category_code="T03"),
            )
            results.append("won")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(u,)) for u in (cast.worker_a, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_handled", "won"]
    assert Case.objects.count() == 1
    message.refresh_from_db()
    assert message.state == MessageState.CASE and message.case_id == Case.objects.get().pk


# --- 忽略 ----------------------------------------------------------------------------------------------


def test_dismiss_with_a_reason(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "谁家的快递放门口了")
    response = login(cast.worker_a).post(
        f"/watch/messages/{message.pk}/dismiss/",
        {"reason": "闲聊", "note": "问快递的"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == MessageState.DISMISSED
    assert message.dismiss_reason == "闲聊：问快递的"
    assert message.handled_by_id == cast.worker_a.pk
    assert "已忽略：闲聊：问快递的" in response.content.decode()
    again = login(cast.worker_a).post(f"/watch/messages/{message.pk}/dismiss/", {"reason": "广告"})
    assert again.status_code == 409
    message.refresh_from_db()
    assert message.dismiss_reason == "闲聊：问快递的"


def test_dismiss_needs_a_reason_and_other_needs_a_note(cast, connector, group_a, login) -> None:
    message = post(connector, group_a, "谁家的快递")
    client = login(cast.worker_a)
    assert client.post(f"/watch/messages/{message.pk}/dismiss/", {}).status_code == 422
    response = client.post(f"/watch/messages/{message.pk}/dismiss/", {"reason": "其他"})
    assert response.status_code == 422
    assert "请说明忽略的原因" in response.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.FLAGGED


def test_handled_tab_shows_who_when_and_the_case(cast, connector, group_a, login) -> None:
    made = post(connector, group_a, "堰塘打起来了", at=NOW - timedelta(hours=2))
    dismissed = post(connector, group_a, "卖保健品广告", at=NOW - timedelta(hours=1))
    _, case = feed.message_make_case(
        actor=cast.worker_a,
        message_id=made.pk,
        draft=feed.CaseDraft(title="堰塘纠纷", description="堰塘打起来了"),
        now=NOW - timedelta(minutes=90),
    )
    feed.message_dismiss(
        actor=cast.worker_a, message_id=dismissed.pk, reason="广告", now=NOW - timedelta(minutes=30)
    )
    linked = post(connector, group_a, "堰塘那边还在吵", state=MessageState.LINKED, duplicate_of=case)
    response = login(cast.worker_a).get("/watch/?tab=handled")
    assert [m.pk for m in response.context["page"]] == [linked.pk, dismissed.pk, made.pk]
    body = response.content.decode()
    assert f'href="/cases/{case.pk}/"' in body
    assert "已并入事件" in body and "系统自动识别" in body
    assert "已忽略：广告 · worker_a" in body


# --- patrol log --------------------------------------------------------------------------------------


def test_every_look_at_the_feed_is_logged(cast, login) -> None:
    client = login(cast.worker_a)
    client.get("/watch/")
    client.get("/watch/?tab=all", HTTP_HX_REQUEST="true")
    assert PatrolLog.objects.filter(user=cast.worker_a, action="view").count() == 2


def test_worker_sees_todays_patrol_row_on_the_feed(cast, login) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 0, 30, tzinfo=UTC), tick=False):  # 08:30 local
        PatrolLog.objects.create(user=cast.worker_a, at=timezone.now() - timedelta(minutes=40))
        body = login(cast.worker_a).get("/watch/").content.decode()
    assert "今日巡群" in body
    assert "pw-done" in body  # 早间 07:50
    assert "pw-upcoming" in body  # 晚间 not yet


# --- urgent alerts -----------------------------------------------------------------------------------


def test_alert_sweep_marks_an_unhandled_urgent_message_once(cast, connector, group_a, settings) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "URGENT_ALERT_MINUTES": 15}
    urgent = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW)
    normal = post(connector, group_a, "路灯坏了", at=NOW)
    handled = post(connector, group_a, "有人落水", urgency=Urgency.URGENT, at=NOW)
    feed.message_dismiss(actor=cast.worker_a, message_id=handled.pk, reason="已线下处理")
    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        assert feed.alert_sweep() == 0
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        assert feed.alert_sweep() == 1
        assert feed.alert_sweep() == 0
    urgent.refresh_from_db()
    normal.refresh_from_db()
    assert urgent.alerted_at == NOW + timedelta(minutes=16)
    assert normal.alerted_at is None
    assert GroupMessage.objects.get(pk=handled.pk).alerted_at is None


def test_an_imported_old_urgent_message_is_flagged_but_not_alerted(
    cast, connector, group_a, settings
) -> None:
    """History arrives today but was written last month: no page for the grid leader and the centre."""
    settings.DUALGRID = {**settings.DUALGRID, "URGENT_ALERT_MINUTES": 15, "URGENT_ALERT_MAX_AGE_HOURS": 24}
    old = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW - timedelta(days=30))
    late = post(connector, group_a, "有人落水", urgency=Urgency.URGENT, at=NOW - timedelta(hours=23))
    GroupMessage.objects.filter(pk__in=[old.pk, late.pk]).update(received_at=NOW)  # both imported now
    assert feed.alert_sweep(NOW + timedelta(minutes=16)) == 1
    assert GroupMessage.objects.get(pk=old.pk).alerted_at is None
    assert GroupMessage.objects.get(pk=old.pk).state == MessageState.FLAGGED  # still in the feed, 紧急
    assert GroupMessage.objects.get(pk=late.pk).alerted_at == NOW + timedelta(minutes=16)


def test_alerts_reach_the_centre_and_the_workers_of_a_grid_without_a_leader_account(
    cast, connector, group_a, login
) -> None:
    message = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW)
    feed.alert_sweep(NOW + timedelta(hours=1))
    assert list(feed.alerts_for_user(cast.dispatcher)) == [message]
    assert list(feed.alerts_for_user(cast.town_dispatcher)) == []
    assert list(feed.alerts_for_user(cast.worker_a)) == [message]
    assert list(feed.alerts_for_user(cast.worker_b)) == []
    response = login(cast.dispatcher).get("/watch/alerts/")
    assert response.status_code == 200
    assert "老人走失了" in response.content.decode()
    nav = login(cast.worker_a).get("/tasks/").content.decode()
    assert 'class="count count-alert" title="超时未处置的紧急群消息">1<' in nav


def test_a_grid_leader_with_an_account_gets_the_grids_alerts_instead_of_its_workers(
    cast, connector, group_a
) -> None:
    leader_user = User.objects.create_user("grid_leader_a", role="gridworker", display_name="网格长")
    leader_user.grids.add(cast.grid_a)
    role = StaffRole.objects.get(code=feed.GRID_LEADER_ROLE)
    staff = Staff.objects.create(name="张网格长", user=leader_user)
    Assignment.objects.create(staff=staff, grid=cast.grid_a, role=role, start_date=date(2020, 1, 1))
    message = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW)
    feed.alert_sweep(NOW + timedelta(hours=1))
    assert list(feed.alerts_for_user(leader_user)) == [message]
    assert list(feed.alerts_for_user(cast.worker_a)) == []
    assert list(feed.alerts_for_user(cast.dispatcher)) == [message]


def test_handled_alert_leaves_the_list(cast, connector, group_a) -> None:
    message = post(connector, group_a, "老人走失了", urgency=Urgency.URGENT, at=NOW)
    feed.alert_sweep(NOW + timedelta(hours=1))
    feed.message_make_case(
        actor=cast.dispatcher,
        message_id=message.pk,
        draft=feed.CaseDraft(title="老人走失", description="老人走失了", urgency=Urgency.URGENT),
    )
    assert feed.alert_count(cast.dispatcher) == 0


def test_a_message_arriving_through_ingest_reaches_its_grids_feed(cast, connector, group_a) -> None:
    from dualgrid.watch.inbound import Inbound, ingest

    result = ingest(
        connector,
        [
            Inbound(external_id="x1", group_id=group_a.external_id, text="早上好", sender_name="张三"),
            Inbound(
                external_id="x2",
                group_id=group_a.external_id,
                text="9社龚氏兄弟因堰塘使用又打起来了，网格员快来看看",
                sender_name="龚大姐",
            ),
        ],
    )
    assert result.stored == 2
    flagged = list(feed.feed_list(cast.worker_a))
    assert [m.external_id for m in flagged] == ["x2"]
    assert flagged[0].urgency == Urgency.URGENT and flagged[0].reasons
    assert list(feed.feed_list(cast.worker_b)) == []
    assert {m.external_id for m in feed.feed_list(cast.worker_a, "all")} == {"x1", "x2"}


def test_an_action_also_refreshes_the_pending_count_on_the_tab(cast, connector, group_a, login) -> None:  # type: ignore[no-untyped-def]
    first = post(connector, group_a, "谁家的快递放门口了")
    post(connector, group_a, "谁家的快递放门口了，挡着路")
    page = login(cast.worker_a).get("/watch/").content.decode()
    assert page.count('id="feed-pending-count"') == 1  # one count on the tab, none inside the cards
    response = login(cast.worker_a).post(
        f"/watch/messages/{first.pk}/dismiss/", {"reason": "闲聊", "note": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'id="feed-pending-count" hx-swap-oob="true"' in body
    assert re.search(r'id="feed-pending-count" hx-swap-oob="true" class="count count-alert">1<', body)


def test_a_wrong_automatic_link_is_undone_and_the_message_can_become_its_own_case(
    cast, connector, group_a, login
) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.cases.tests.factories import report

    other = report(cast, description="小区下水管堵塞")
    message = post(connector, group_a, "小区下水管又堵了", state=MessageState.LINKED, duplicate_of=other)
    assert login(cast.leader).post(f"/watch/messages/{message.pk}/unlink/").status_code == 403
    assert login(cast.worker_b).post(f"/watch/messages/{message.pk}/unlink/").status_code == 404
    response = login(cast.worker_a).post(f"/watch/messages/{message.pk}/unlink/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "已撤销并入，消息回到待处置" in response.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.FLAGGED and message.duplicate_of is None
    assert "worker_a" in message.reasons[-1] and "撤销并入" in message.reasons[-1]
    again = login(cast.worker_a).post(f"/watch/messages/{message.pk}/unlink/", HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert "无需撤销" in again.content.decode()
    assert f"/watch/messages/{message.pk}/case/" in again.content.decode()  # 转为事件 is offered again


def test_making_a_case_links_the_same_warning_posted_by_others(
    cast, connector, group_a, group_b, login
) -> None:
    """Several residents post the same warning: one case, the repeats join it instead of waiting."""
    warning = "今天有两个人挨家挨户说免费领鸡蛋，要老人交钱买保健品，大家注意"
    first = post(connector, group_a, warning, at=NOW - timedelta(hours=2))
    again = post(
        connector,
        group_a,
        "今天有两个人挨家挨户说免费领鸡蛋，要老人交钱买保健品！！",
        at=NOW - timedelta(hours=1),
    )
    other = post(connector, group_a, "村口路灯坏了一个星期了", at=NOW - timedelta(minutes=30))
    old = post(connector, group_a, warning, at=NOW - timedelta(days=8))
    elsewhere = post(connector, group_b, warning, at=NOW - timedelta(hours=1))
    dismissed = post(connector, group_a, warning, at=NOW - timedelta(hours=3), state=MessageState.DISMISSED)
    # A case registered for an earlier moment (``now`` given, as the demo does) merges only what had
    # arrived by then.
    later = post(connector, group_a, warning, at=NOW + timedelta(minutes=5))
    with time_machine.travel(NOW, tick=False):
        response = login(cast.worker_a).post(
            f"/watch/messages/{first.pk}/case/",
            _case_form(title="上门推销保健品骗老人", description=warning),
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    case = Case.objects.get()
    for m in (first, again, other, old, elsewhere, dismissed, later):
        m.refresh_from_db()
    assert first.state == MessageState.CASE
    assert again.state == MessageState.LINKED and again.duplicate_of_id == case.pk
    assert again.case_id is None and again.reasons[-1].startswith(f"与事件{case.number}重复")
    assert other.state == MessageState.FLAGGED  # another matter
    assert old.state == MessageState.FLAGGED  # older than 7 days
    assert elsewhere.state == MessageState.FLAGGED  # another grid: its own worker decides
    assert dismissed.state == MessageState.DISMISSED
    body = response.content.decode()
    assert "另有 1 条相同内容的消息已关联到该事件" in body
    # the repeat's card on the page is swapped for its merged state, out of band; the others are not
    assert f'id="msg-{again.pk}" hx-swap-oob="true"' in body and "已并入事件" in body
    assert f'id="msg-{other.pk}"' not in body
    # a wrong link is undone as any other
    feed.message_unlink(actor=cast.worker_a, message_id=again.pk)
    again.refresh_from_db()
    assert again.state == MessageState.FLAGGED and again.duplicate_of_id is None
