"""The REST contract of issue #2: /api/v1/auth/token and /api/v1/cases…"""

import pytest
from django.test import Client

from dualgrid.cases.models import Case, Status
from dualgrid.cases.tests.factories import case_in_state
from dualgrid.conftest import POINT_IN_A, POINT_IN_B


def token_for(client: Client, username: str) -> str:
    resp = client.post(
        "/api/v1/auth/token", {"username": username, "password": "pw-123456"}, content_type="application/json"
    )
    assert resp.status_code == 200, resp.content
    return resp.json()["token"]


@pytest.fixture
def api(cast):  # type: ignore[no-untyped-def]
    client = Client()

    def call(
        method: str, path: str, user: str | None = "dispatcher", body: dict | None = None, **headers: str
    ):  # type: ignore[no-untyped-def]
        if user:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(client, user)}"
        fn = getattr(client, method)
        if body is not None:
            return fn(f"/api/v1{path}", body, content_type="application/json", **headers)
        return fn(f"/api/v1{path}", **headers)

    return call


NEW_CASE = {
    "title": "小区门口车辆乱停",
    "description": "大佛社区3栋门口每天晚上车辆乱停，消防通道被堵死",
    "channel": "hotline",
    "reporter_name": "李女士",
    "reporter_phone": "13812345678",
    "lat": POINT_IN_A[0],
    "lng": POINT_IN_A[1],
    "address": "大佛社区3栋",
}


def test_bad_credentials_get_401(cast) -> None:
    resp = Client().post(
        "/api/v1/auth/token", {"username": "dispatcher", "password": "x"}, content_type="application/json"
    )
    assert resp.status_code == 401 and resp.json()["field"] == "password"


def test_no_token_gets_401(cast) -> None:
    assert Client().get("/api/v1/cases").status_code == 401


def test_create_returns_201_with_the_contract_fields_and_masked_phone(api, cast) -> None:
    resp = api("post", "/cases", body={**NEW_CASE, "category_code": cast.parking.code})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    for key in ("id", "number", "status", "grid", "assignee", "due_at", "version"):
        assert key in body
    assert body["status"] == Status.PENDING_SIGN
    assert body["grid"]["code"] == cast.grid_a.code
    assert body["assignee"] == {"type": "grid", "id": cast.grid_a.pk, "name": cast.grid_a.name}
    assert body["due_at"] is not None
    assert body["reporter_phone"] == "138****5678"


def test_create_is_idempotent_with_the_same_key(api, cast) -> None:
    first = api("post", "/cases", body=NEW_CASE, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api("post", "/cases", body=NEW_CASE, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Case.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"reporter_phone": "1234"}, "reporter_phone"),
        ({"category_code": "NOPE"}, "category_code"),
        ({"channel": "pigeon"}, "channel"),
        ({"lat": "north"}, "lat"),
        ({"lat": 95.0}, "lat"),
    ],
)
def test_bad_input_gets_422_naming_the_field(api, cast, change, field) -> None:
    resp = api("post", "/cases", body={**NEW_CASE, **change})
    assert resp.status_code == 422, resp.content
    assert field in resp.json()["errors"]
    assert Case.objects.count() == 0


def test_list_is_scoped_filtered_and_paginated(api, cast) -> None:
    api("post", "/cases", body=NEW_CASE)
    api("post", "/cases", body={**NEW_CASE, "lat": POINT_IN_B[0], "lng": POINT_IN_B[1]})
    resp = api("get", f"/cases?grid={cast.grid_b.pk}&with_count=true")
    assert resp.json()["count"] == 1
    page = api("get", "/cases?page_size=1").json()
    assert len(page["items"]) == 1 and page["has_next"] is True
    assert api("get", "/cases?status=new&status=pending_dispatch").json()["items"][0]["status"] == "new"
    assert api("get", "/cases", user="worker_b").json()["items"][0]["grid"]["id"] == cast.grid_b.pk
    assert len(api("get", "/cases", user="worker_b").json()["items"]) == 1
    assert all(i["reporter_phone"] == "138****5678" for i in page["items"])


def test_detail_has_the_timeline(api, cast) -> None:
    case = case_in_state(cast, Status.IN_PROGRESS)
    body = api("get", f"/cases/{case.pk}").json()
    assert [e["action"] for e in body["timeline"]] == ["create", "accept", "dispatch", "sign"]
    assert body["timeline"][3]["action_label"] == "签收"


def test_transition_conflicts_forbidden_and_not_found(api, cast) -> None:
    case = case_in_state(cast, Status.PENDING_SIGN)
    ok = api(
        "post",
        f"/cases/{case.pk}/transitions",
        user="worker_a",
        body={"action": "sign", "version": case.version},
    )
    assert ok.status_code == 200 and ok.json()["status"] == Status.IN_PROGRESS
    stale = api(
        "post",
        f"/cases/{case.pk}/transitions",
        user="worker_a",
        body={"action": "resolve", "version": case.version, "note": "完成"},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    wrong_state = api(
        "post",
        f"/cases/{case.pk}/transitions",
        user="dispatcher",
        body={"action": "accept", "version": case.version + 1},
    )
    assert wrong_state.status_code == 409 and wrong_state.json()["code"] == "invalid_transition"
    forbidden = api(
        "post",
        f"/cases/{case.pk}/transitions",
        user="leader",
        body={"action": "resolve", "version": case.version + 1, "note": "x"},
    )
    assert forbidden.status_code == 403
    hidden = api(
        "post",
        f"/cases/{case.pk}/transitions",
        user="worker_b",
        body={"action": "resolve", "version": case.version + 1, "note": "x"},
    )
    assert hidden.status_code == 404
    assert api("get", "/cases/987654").status_code == 404
    missing = api("post", f"/cases/{case.pk}/transitions", user="worker_a", body={"action": "resolve"})
    assert missing.status_code == 422 and "version" in missing.json()["errors"]


def test_reveal_phone_via_api_is_recorded(api, cast) -> None:
    case = case_in_state(cast, Status.NEW)
    assert api("post", f"/cases/{case.pk}/reveal-phone").json() == {"phone": "13812345678"}
    assert api("post", f"/cases/{case.pk}/reveal-phone", user="leader").status_code == 403
    assert case.events.filter(action="reveal_phone").count() == 1


def test_openapi_docs_are_served(cast) -> None:
    assert Client().get("/api/v1/openapi.json").status_code == 200
    assert Client().get("/api/v1/docs").status_code == 200
