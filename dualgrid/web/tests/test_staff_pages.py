"""Staff pages: home by role, lists, detail, actions, phone reveal, my tasks."""

import pytest
from django.test import Client

from dualgrid.cases.models import Case, CaseEvent, Channel, Status
from dualgrid.cases.tests.factories import act, case_in_state, report
from dualgrid.conftest import POINT_IN_B


@pytest.mark.parametrize(
    ("user", "target"),
    [
        ("worker_a", "/tasks/"),
        ("handler", "/tasks/"),
        ("dispatcher", "/queue/"),
        ("calltaker", "/cases/new/"),
        ("leader", "/cases/"),
        ("admin", "/cases/"),
    ],
)
def test_home_sends_each_role_to_its_page(cast, login, user, target) -> None:  # type: ignore[no-untyped-def]
    resp = login(getattr(cast, user)).get("/")
    assert resp.status_code == 302
    assert resp["Location"] == target


def test_anonymous_users_go_to_login(cast) -> None:  # type: ignore[no-untyped-def]
    assert Client().get("/")["Location"] == "/login/"
    assert Client().get("/queue/")["Location"].startswith("/login/?next=")


def test_login_page_is_chinese(cast) -> None:  # type: ignore[no-untyped-def]
    body = Client().get("/login/").content.decode()
    assert "用户名" in body and "密码" in body


def test_a_role_without_the_page_gets_403(cast, login) -> None:  # type: ignore[no-untyped-def]
    resp = login(cast.leader).get("/queue/")
    assert resp.status_code == 403
    assert "无权访问" in resp.content.decode()


def test_a_worker_of_grid_b_gets_404_for_a_case_in_grid_a(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.IN_PROGRESS)
    resp = login(cast.worker_b).get(f"/cases/{case.pk}/")
    assert resp.status_code == 404
    assert "页面不存在" in resp.content.decode()
    assert login(cast.worker_a).get(f"/cases/{case.pk}/").status_code == 200


def test_the_phone_is_masked_in_list_and_detail(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    client = login(cast.dispatcher)
    for url in ("/cases/", "/queue/", f"/cases/{case.pk}/"):
        body = client.get(url).content.decode()
        assert "138****5678" in body, url
        assert "13812345678" not in body, url


def test_reveal_shows_the_number_and_records_it(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    resp = login(cast.dispatcher).post(f"/cases/{case.pk}/reveal-phone/", HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "13812345678" in body
    assert 'hx-swap-oob="true"' in body  # the timeline is refreshed with the new entry
    event = CaseEvent.objects.get(case=case, action="reveal_phone")
    assert event.actor == cast.dispatcher


def test_a_leader_cannot_reveal_the_phone(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    client = login(cast.leader)
    assert "查看完整号码" not in client.get(f"/cases/{case.pk}/").content.decode()
    resp = client.post(f"/cases/{case.pk}/reveal-phone/")
    assert resp.status_code == 403
    assert not CaseEvent.objects.filter(action="reveal_phone").exists()


def test_the_action_panel_offers_only_allowed_actions(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_SIGN)
    worker = login(cast.worker_a).get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/actions/sign/" in worker
    assert f"/cases/{case.pk}/actions/recall/" not in worker
    dispatcher = login(cast.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/actions/recall/" in dispatcher
    assert f"/cases/{case.pk}/actions/sign/" not in dispatcher


def test_a_worker_sees_no_actions_on_a_case_not_assigned_to_them(cast, login) -> None:  # type: ignore[no-untyped-def]
    # In grid A (so visible to worker A) but dispatched to a department.
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    case = act(cast.dispatcher, case, "dispatch", department_id=cast.housing.pk)
    body = login(cast.worker_a).get(f"/cases/{case.pk}/").content.decode()
    assert "/actions/" not in body


def test_an_action_moves_the_case_and_redirects(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_SIGN)
    resp = login(cast.worker_a).post(f"/cases/{case.pk}/actions/sign/", {"version": case.version})
    case.refresh_from_db()
    assert resp.status_code == 302
    assert case.status == Status.IN_PROGRESS
    assert case.assignee == cast.worker_a


def test_dispatch_to_a_grid(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    data = {
        "version": case.version,
        "target": "grid",
        "grid_id": cast.grid_b.pk,
        "urgency": "urgent",
        "note": "",
    }
    login(cast.dispatcher).post(f"/cases/{case.pk}/actions/dispatch/", data)
    case.refresh_from_db()
    assert case.status == Status.PENDING_SIGN
    assert case.assigned_grid == cast.grid_b
    assert case.urgency == "urgent"


def test_dispatch_to_a_department_ignores_the_grid(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    data = {
        "version": case.version,
        "target": "department",
        "grid_id": cast.grid_a.pk,
        "department_id": cast.housing.pk,
    }
    login(cast.dispatcher).post(f"/cases/{case.pk}/actions/dispatch/", data)
    case.refresh_from_db()
    assert case.assigned_department == cast.housing
    assert case.assigned_grid is None


def test_a_missing_reason_shows_next_to_the_field(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    resp = login(cast.dispatcher).post(
        f"/cases/{case.pk}/actions/reject/", {"version": case.version, "note": ""}
    )
    case.refresh_from_db()
    assert resp.status_code == 422
    assert "请填写不予受理的理由" in resp.content.decode()
    assert case.status == Status.NEW


def test_extension_days_become_hours(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.IN_PROGRESS)
    data = {"version": case.version, "days": "3", "note": "需协调物业"}
    login(cast.worker_a).post(f"/cases/{case.pk}/actions/request_extension/", data)
    case.refresh_from_db()
    assert case.extension_pending and case.extension_hours == 72


def test_a_stale_version_shows_the_conflict_and_keeps_the_input(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    seen = case.version
    act(cast.admin, case, "accept")  # someone else acts first
    data = {"version": seen, "note": "重复反映，已合并到另一事件"}
    resp = login(cast.dispatcher).post(f"/cases/{case.pk}/actions/reject/", data)
    body = resp.content.decode()
    case.refresh_from_db()
    assert resp.status_code == 409
    assert "该事件已被他人更新，请刷新后重试" in body
    assert "重复反映，已合并到另一事件" in body
    assert case.status == Status.PENDING_DISPATCH


def test_resolve_attaches_result_photos(cast, login, jpeg) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.IN_PROGRESS)
    data = {"version": case.version, "note": "已处理完毕", "photos": [jpeg("after.jpg")]}
    login(cast.worker_a).post(f"/cases/{case.pk}/actions/resolve/", data)
    case.refresh_from_db()
    assert case.status == Status.PENDING_VERIFY
    assert case.attachments.get().kind == "result"
    body = login(cast.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert "处置照片" in body


def test_a_calltaker_registers_a_phone_report(cast, login) -> None:  # type: ignore[no-untyped-def]
    data = {
        "channel": Channel.HOTLINE,
        "urgency": "normal",
        "description": "来电反映：小区停车位被占用",
        "reporter_name": "",
        "reporter_phone": "",
        "lat": str(POINT_IN_B[0]),
        "lng": str(POINT_IN_B[1]),
        "idempotency_key": "ct-1",
    }
    resp = login(cast.calltaker).post("/cases/new/", data)
    case = Case.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/cases/{case.pk}/"
    assert case.created_by == cast.calltaker
    assert case.channel == Channel.HOTLINE
    assert case.grid == cast.grid_b


def test_the_queue_counts_each_tab_and_serves_htmx_partials(cast, login) -> None:  # type: ignore[no-untyped-def]
    case_in_state(cast, Status.NEW)
    case_in_state(cast, Status.NEW)
    verify = case_in_state(cast, Status.PENDING_VERIFY)
    client = login(cast.dispatcher)
    full = client.get("/queue/").content.decode()
    assert "<html" in full and "待受理" in full
    partial = client.get("/queue/?tab=verify", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert verify.number in partial
    assert 'id="queue-panel"' in partial


def test_the_case_list_filters_by_status(cast, login) -> None:  # type: ignore[no-untyped-def]
    new = case_in_state(cast, Status.NEW)
    closed = case_in_state(cast, Status.CLOSED)
    body = login(cast.leader).get("/cases/?status=closed").content.decode()
    assert closed.number in body
    assert new.number not in body


def test_a_case_outside_every_grid_is_flagged(cast, login) -> None:  # type: ignore[no-untyped-def]
    report(cast, point=(31.5, 107.0))
    body = login(cast.dispatcher).get("/queue/").content.decode()
    assert "位置不在网格内" in body


def test_my_tasks_show_the_due_time(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_SIGN)
    body = login(cast.worker_a).get("/tasks/").content.decode()
    assert case.title in body
    assert "签收时限" in body and "剩余" in body
    assert case.title not in login(cast.worker_b).get("/tasks/").content.decode()


def test_grid_options_search_within_scope(cast, login) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.town_dispatcher).get("/grids/options/?term=网格").content.decode()
    assert cast.grid_c.name in body
    assert cast.grid_a.name not in body


def test_the_grid_layer_is_public_geojson(cast) -> None:  # type: ignore[no-untyped-def]
    resp = Client().get("/geo/grids.geojson")
    data = resp.json()
    assert resp["Content-Type"].startswith("application/geo+json")
    assert {f["properties"]["code"] for f in data["features"]} == {
        cast.grid_a.code,
        cast.grid_b.code,
        cast.grid_c.code,
    }
    assert data["features"][0]["geometry"]["type"] == "Polygon"


def test_an_action_no_longer_possible_keeps_the_text_without_a_submit(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.NEW)
    seen = case.version
    case = act(cast.admin, case, "accept")
    act(cast.admin, case, "dispatch", grid_id=cast.grid_a.pk)
    resp = login(cast.dispatcher).post(
        f"/cases/{case.pk}/actions/reject/", {"version": seen, "note": "重复反映"}
    )
    body = resp.content.decode()
    assert resp.status_code == 409
    assert "重复反映" in body
    assert "当前不能再执行“不予受理”" in body
    assert "确认不予受理" not in body
