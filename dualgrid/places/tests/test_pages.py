"""Places pages: grid list and detail, coverage, the GeoJSON upload; scope, masking, Chinese errors."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dualgrid.places.models import Duty, Grid, Platform
from dualgrid.places.services import chat_group_upsert

from .conftest import collection, feature, micro_grid, square


def upload(content: bytes, name: str = "grids.geojson") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/geo+json")


def test_anonymous_users_go_to_login(cast) -> None:
    for url in (
        "/places/grids/",
        "/places/coverage/",
        f"/places/grids/{cast.grid_a.pk}/",
        "/places/import-geojson/",
    ):
        assert Client().get(url)["Location"].startswith("/login/?next=")


def test_the_grid_list_shows_the_scope_and_filters(cast, login) -> None:
    body = login(cast.dispatcher).get("/places/grids/").content.decode()
    assert "大佛社区第1网格" in body and "白兔村第1网格" in body
    body = login(cast.dispatcher).get(f"/places/grids/?town={cast.town_b.pk}").content.decode()
    assert "白兔村第1网格" in body and "大佛社区第1网格" not in body
    body = login(cast.town_dispatcher).get("/places/grids/").content.decode()
    assert "白兔村第1网格" in body and "大佛社区第1网格" not in body


def test_the_grid_list_filters_by_group_and_tier(cast, login) -> None:
    chat_group_upsert(
        actor=cast.admin,
        platform=Platform.WECHAT,
        external_id="g1",
        name="一群",
        grid=cast.grid_a,
        member_count=9,
    )
    micro_grid(cast, cast.grid_b, "01", 105.85, 105.87)
    client = login(cast.dispatcher)
    with_group = client.get("/places/grids/?has_group=yes").content.decode()
    assert "大佛社区第1网格" in with_group and "白兔村第1网格" not in with_group
    micro = client.get("/places/grids/?tier=micro").content.decode()
    assert "大佛社区第2网格第1微网格" in micro and "大佛社区第1网格" not in micro


def test_a_town_account_gets_404_for_another_towns_grid(cast, login) -> None:
    client = login(cast.town_dispatcher)
    resp = client.get(f"/places/grids/{cast.grid_a.pk}/")
    assert resp.status_code == 404 and "不在您的管辖范围内" in resp.content.decode()
    assert client.get(f"/places/grids/{cast.grid_a.pk}/geojson/").status_code == 404
    assert client.get(f"/places/grids/{cast.grid_c.pk}/").status_code == 200


def test_a_grid_worker_sees_their_grid_only(cast, login) -> None:
    client = login(cast.worker_a)
    assert client.get(f"/places/grids/{cast.grid_a.pk}/").status_code == 200
    assert client.get(f"/places/grids/{cast.grid_b.pk}/").status_code == 404


def test_the_grid_detail_shows_duties_groups_masked_and_a_link_to_its_cases(cast, login) -> None:
    chat_group_upsert(
        actor=cast.admin,
        platform=Platform.WECOM,
        external_id="wc-9",
        name="大佛一格企微群",
        grid=cast.grid_a,
        member_count=88,
        owner_name="李强",
        owner_phone="13912345678",
    )
    Duty.objects.create(code="X01", name="河道巡查")
    cast.grid_a.duties.set(Duty.objects.filter(code__in=["D01", "X01"]))
    body = login(cast.dispatcher).get(f"/places/grids/{cast.grid_a.pk}/").content.decode()
    assert "500152001001001" in body and "一般网格" in body and "城市社区网格" in body
    assert "政策宣传" in body and "待批准、暂不生效：河道巡查" in body
    assert "大佛一格企微群" in body and "企业微信" in body and "139****5678" in body
    assert "13912345678" not in body
    assert f"/cases/?grid={cast.grid_a.pk}" in body
    assert f"/places/grids/{cast.grid_a.pk}/geojson/" in body


def test_the_grid_map_layer_holds_the_grid_its_neighbours_and_micro_grids(cast, login) -> None:
    micro = micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    data = login(cast.dispatcher).get(f"/places/grids/{cast.grid_a.pk}/geojson/").json()
    assert [f["properties"]["code"] for f in data["features"]] == [
        cast.grid_a.code,
        micro.code,
        cast.grid_b.code,
    ]
    assert data["features"][0]["geometry"]["type"] == "Polygon"


def test_the_coverage_page_lists_findings_and_sorts(cast, login) -> None:
    Grid.objects.filter(pk=cast.grid_a.pk).update(population=1000)
    chat_group_upsert(
        actor=cast.admin,
        platform=Platform.WECHAT,
        external_id="a",
        name="甲群",
        grid=cast.grid_a,
        member_count=600,
    )
    chat_group_upsert(
        actor=cast.admin,
        platform=Platform.QQ,
        external_id="z",
        name="无主群",
        grid=None,
        member_count=5,
        owner_phone="13700001111",
    )
    client = login(cast.dispatcher)
    body = client.get("/places/coverage/?level=grid&sort=reach&order=desc").content.decode()
    assert "60.0%" in body and "未建群的网格（2）" in body and "未关联网格的群（1）" in body
    assert "无主群" in body and "137****1111" in body and "13700001111" not in body
    assert body.index("大佛社区第1网格") < body.index("大佛社区第2网格")
    town = client.get("/places/coverage/?level=town").content.decode()
    assert "桂林街道" in town and "群力镇" in town


def test_a_town_account_sees_only_its_town_on_the_coverage_page(cast, login) -> None:
    body = login(cast.town_dispatcher).get("/places/coverage/?level=grid").content.decode()
    assert "白兔村第1网格" in body and "大佛社区" not in body and "桂林街道" not in body
    assert "未关联网格的群" not in body


def test_only_administrators_reach_the_import_page(cast, login) -> None:
    resp = login(cast.dispatcher).get("/places/import-geojson/")
    assert resp.status_code == 403
    assert login(cast.admin).get("/places/import-geojson/").status_code == 200


def _good_file(cast) -> bytes:  # type: ignore[no-untyped-def]
    data = collection(feature("500152001001003", "大佛社区第3网格", square(105.90, 30.10, 105.92, 30.20)))
    return json.dumps(data, ensure_ascii=False).encode()


def test_import_preview_then_apply(cast, login) -> None:
    client = login(cast.admin)
    resp = client.post("/places/import-geojson/", {"file": upload(_good_file(cast))})
    body = resp.content.decode()
    assert resp.status_code == 200 and "检查通过：将新增 1 个" in body and "确认导入" in body
    assert not Grid.objects.filter(code="500152001001003").exists()
    token = resp.context["token"]
    resp = client.post("/places/import-geojson/", {"step": "apply", "token": token})
    assert "已导入：新增 1 个" in resp.content.decode()
    assert Grid.objects.filter(code="500152001001003").exists()
    again = client.post("/places/import-geojson/", {"step": "apply", "token": token})
    assert again.status_code == 409 and "预检结果已失效" in again.content.decode()


def test_import_preview_lists_errors_in_chinese_and_offers_no_apply(cast, login) -> None:
    bad = collection(
        feature(
            "500152001001003",
            "自相交",
            {
                "type": "Polygon",
                "coordinates": [[[105.9, 30.1], [106.0, 30.2], [106.0, 30.1], [105.9, 30.2], [105.9, 30.1]]],
            },
        )
    )
    resp = login(cast.admin).post("/places/import-geojson/", {"file": upload(json.dumps(bad).encode())})
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "发现 1 处错误，本文件不会导入任何数据" in body and "边界自相交" in body and "第 1 个" in body
    assert "确认导入" not in body


def test_another_users_draft_cannot_be_applied(cast, login) -> None:
    resp = login(cast.admin).post("/places/import-geojson/", {"file": upload(_good_file(cast))})
    other = cast.dispatcher
    other.role = "admin"
    other.save()
    again = login(other).post("/places/import-geojson/", {"step": "apply", "token": resp.context["token"]})
    assert again.status_code == 409
    assert not Grid.objects.filter(code="500152001001003").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("grids.xlsx", b"PK\x03\x04", "请上传 .geojson 或 .json 文件"),
        ("grids.geojson", b"", "所提交的是空文件"),
    ],
)
def test_a_wrong_upload_is_refused_with_a_message(cast, login, name, content, message) -> None:
    resp = login(cast.admin).post("/places/import-geojson/", {"file": upload(content, name)})
    assert resp.status_code == 422 and message in resp.content.decode()


def test_a_too_large_upload_is_refused(cast, login, settings) -> None:
    from dualgrid.places import forms

    forms_limit = forms.MAX_GEOJSON_BYTES
    try:
        forms.MAX_GEOJSON_BYTES = 10
        resp = login(cast.admin).post("/places/import-geojson/", {"file": upload(_good_file(cast))})
    finally:
        forms.MAX_GEOJSON_BYTES = forms_limit
    assert resp.status_code == 422 and "文件过大" in resp.content.decode()


def test_changing_the_town_drops_a_village_of_another_town(cast, login) -> None:
    url = f"/places/grids/?town={cast.town_b.pk}&village={cast.village_a.pk}"
    body = login(cast.dispatcher).get(url).content.decode()
    assert "白兔村第1网格" in body and "大佛社区第1网格" not in body


def test_the_grid_page_links_its_staff_page_for_those_who_manage_staff(cast, login) -> None:  # type: ignore[no-untyped-def]
    staff_url = f"/people/grids/{cast.grid_a.pk}/staff/"
    assert staff_url in login(cast.dispatcher).get(f"/places/grids/{cast.grid_a.pk}/").content.decode()
    assert staff_url not in login(cast.worker_a).get(f"/places/grids/{cast.grid_a.pk}/").content.decode()
