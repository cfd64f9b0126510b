"""Grid boundaries from GeoJSON: every feature checked, all or nothing, idempotent by code."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from shapely import wkt
from shapely.geometry import box

from dualgrid.accounts.models import AuditEntry
from dualgrid.lib.errors import Forbidden
from dualgrid.places.models import Grid, GridKind, GridTier
from dualgrid.places.selectors import grid_locator
from dualgrid.places.services import grids_import_geojson

from .conftest import collection, feature, micro_grid, square

# Village A (大佛社区) spans lon 105.80–105.90; the cast's grids A and B split it at 105.85.
VILLAGE_A = box(105.80, 30.10, 105.90, 30.20)


@pytest.fixture
def bounded(cast):  # type: ignore[no-untyped-def]
    cast.village_a.boundary = VILLAGE_A.wkt
    cast.village_a.save()
    return cast


def redraw(cast) -> dict:  # type: ignore[no-untyped-def]
    """Village A cut into three grids instead of two (A and B shrink, a third one in the east)."""
    return collection(
        feature(
            "500152001001001",
            "大佛社区第1网格",
            square(105.80, 30.10, 105.84, 30.20),
            households=320,
            population=910,
        ),
        feature("500152001001002", "大佛社区第2网格", square(105.84, 30.10, 105.87, 30.20), households=280),
        feature("500152001001003", "大佛社区第3网格", square(105.87, 30.10, 105.90, 30.20), kind="专属网格"),
    )


def codes() -> list[str]:
    return list(Grid.objects.order_by("code").values_list("code", flat=True))


def test_a_valid_file_is_applied(bounded) -> None:
    report = grids_import_geojson(actor=bounded.admin, data=json.dumps(redraw(bounded)).encode())
    assert report.ok and report.applied
    assert (report.created, report.updated, report.unchanged) == (1, 2, 0)
    assert report.warnings == []
    third = Grid.objects.get(code="500152001001003")
    assert (
        third.village == bounded.village_a and third.town == bounded.town_a and third.county == bounded.county
    )
    assert third.kind == GridKind.EXCLUSIVE and third.tier == GridTier.GENERAL
    first = Grid.objects.get(code="500152001001001")
    assert (first.households, first.population) == (320, 910)
    assert wkt.loads(first.boundary).equals(box(105.80, 30.10, 105.84, 30.20))


def test_the_import_is_audited(bounded) -> None:
    grids_import_geojson(actor=bounded.admin, data=redraw(bounded))
    entry = AuditEntry.objects.get(action="grids_import")
    assert entry.user == bounded.admin and "新增 1" in entry.detail


def test_reimporting_the_same_file_changes_nothing(bounded) -> None:
    data = json.dumps(redraw(bounded)).encode()
    grids_import_geojson(actor=bounded.admin, data=data)
    stamps = dict(Grid.objects.values_list("code", "updated_at"))
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert Grid.objects.count() == 4
    assert dict(Grid.objects.values_list("code", "updated_at")) == stamps


def test_attributes_missing_from_the_file_are_kept(bounded) -> None:
    Grid.objects.filter(pk=bounded.grid_b.pk).update(population=777)
    grids_import_geojson(actor=bounded.admin, data=redraw(bounded))
    assert Grid.objects.get(pk=bounded.grid_b.pk).population == 777


def test_a_dry_run_reports_without_writing(bounded) -> None:
    before = codes()
    report = grids_import_geojson(actor=bounded.admin, data=redraw(bounded), dry_run=True)
    assert report.ok and not report.applied and report.created == 1
    assert codes() == before


def test_the_locator_sees_imported_boundaries_at_once(bounded, django_capture_on_commit_callbacks) -> None:
    assert grid_locator.locate(105.885, 30.15).grid_id == bounded.grid_b.pk  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        grids_import_geojson(actor=bounded.admin, data=redraw(bounded))
    third = Grid.objects.get(code="500152001001003")
    assert grid_locator.locate(105.885, 30.15).grid_id == third.pk  # type: ignore[union-attr]


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[105.80, 30.10], [105.84, 30.20], [105.84, 30.10], [105.80, 30.20], [105.80, 30.10]]],
}
OPEN_RING = {
    "type": "Polygon",
    "coordinates": [[[105.80, 30.10], [105.84, 30.10], [105.84, 30.20], [105.80, 30.20]]],
}
SWAPPED = {
    "type": "Polygon",
    "coordinates": [[[30.10, 105.80], [30.10, 105.84], [30.20, 105.84], [30.10, 105.80]]],
}


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (
            feature("500152001001001", "自相交", BOWTIE),
            "geometry",
            "边界自相交（位置：经度 105.820000，纬度 30.150000）",
        ),
        (feature("500152001001001", "未闭合", OPEN_RING), "geometry", "外边界未闭合"),
        (feature("500152001001001", "越界", SWAPPED), "geometry", "超出 WGS84 经纬度范围"),
        (
            feature("500152001001001", "出村", square(105.80, 30.10, 105.84, 30.25)),
            "geometry",
            "网格边界超出所属村/社区（大佛社区）",
        ),
        (
            feature("50015200100101", "短码", square(105.80, 30.10, 105.84, 30.20)),
            "code",
            "网格编码应为15位数字",
        ),
        (
            feature("500152001002001", "无此村", square(105.80, 30.10, 105.84, 30.20)),
            "village_code",
            "区划代码 500152001002）不存在",
        ),
        (
            feature(
                "500152001001001", "线", {"type": "LineString", "coordinates": [[105.8, 30.1], [105.9, 30.2]]}
            ),
            "geometry",
            "几何类型应为 Polygon 或 MultiPolygon",
        ),
        (feature("500152001001001", "", square(105.80, 30.10, 105.84, 30.20)), "name", "缺少网格名称"),
        (
            feature("500152001001001", "负数", square(105.80, 30.10, 105.84, 30.20), population=-3),
            "population",
            "人口应为非负整数",
        ),
        (
            feature("500152001001001", "层级", square(105.80, 30.10, 105.84, 30.20), tier="大网格"),
            "tier",
            "网格层级“大网格”无效",
        ),
    ],
)
def test_one_bad_feature_means_nothing_is_written_and_says_why_in_chinese(
    bounded, bad, field, reason
) -> None:
    before = {g.code: g.boundary for g in Grid.objects.all()}
    good = redraw(bounded)["features"]
    report = grids_import_geojson(actor=bounded.admin, data=collection(good[2], bad, good[1]))
    assert not report.applied
    assert [(e.index, e.field) for e in report.errors] == [(2, field)]
    assert reason in report.errors[0].message
    assert {g.code: g.boundary for g in Grid.objects.all()} == before


def test_every_bad_feature_is_listed_not_just_the_first(bounded) -> None:
    data = collection(
        feature("500152001001001", "自相交", BOWTIE),
        feature("500152001001002", "好", square(105.84, 30.10, 105.90, 30.20)),
        feature("5001520010010", "短码", square(105.80, 30.10, 105.84, 30.20)),
    )
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert [(e.index, e.code, e.field) for e in report.errors] == [
        (1, "500152001001001", "geometry"),
        (3, "5001520010010", "code"),
    ]


def test_a_code_twice_in_one_file_is_an_error(bounded) -> None:
    one = feature("500152001001003", "甲", square(105.87, 30.10, 105.88, 30.20))
    report = grids_import_geojson(actor=bounded.admin, data=collection(one, one))
    assert report.errors[0].index == 2 and "与第1个要素重复" in report.errors[0].message


def test_a_file_that_is_not_geojson_is_refused_whole(bounded) -> None:
    report = grids_import_geojson(actor=bounded.admin, data=b"\xef\xbb\xbf{not json")
    assert report.errors[0].index == 0 and "JSON 格式错误" in report.errors[0].message
    report = grids_import_geojson(actor=bounded.admin, data={"type": "Feature"})
    assert "FeatureCollection" in report.errors[0].message


def test_a_projected_crs_is_refused(bounded) -> None:
    data = redraw(bounded) | {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.errors[0].field == "crs" and "WGS84" in report.errors[0].message


def test_the_village_argument_limits_the_file_to_that_village(bounded) -> None:
    data = collection(feature("500152101201002", "白兔村第2网格", square(106.0, 30.1, 106.1, 30.2)))
    report = grids_import_geojson(actor=bounded.admin, data=data, village=bounded.village_a)
    assert "本次只导入大佛社区的网格" in report.errors[0].message


def test_overlapping_neighbours_are_a_warning_not_an_error(bounded) -> None:
    data = collection(feature("500152001001001", "大佛社区第1网格", square(105.80, 30.10, 105.86, 30.20)))
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.applied
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert warning.index == 1 and "与网格 500152001001002（大佛社区第2网格）重叠" in warning.message
    assert "平方" in warning.message


def test_grids_sharing_only_an_edge_do_not_overlap(bounded) -> None:
    report = grids_import_geojson(actor=bounded.admin, data=redraw(bounded))
    assert not [w for w in report.warnings if "重叠" in w.message]


def test_a_gap_left_in_the_village_is_a_warning(bounded) -> None:
    data = collection(feature("500152001001002", "大佛社区第2网格", square(105.86, 30.10, 105.90, 30.20)))
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.applied
    [gap] = report.warnings
    assert gap.index == 0 and gap.code == "500152001001"
    assert "大佛社区内约" in gap.message and "（占10.0%）未划入任何网格" in gap.message


def test_a_micro_grid_must_lie_inside_its_grid(bounded) -> None:
    inside = feature("50015200100100101", "第1微网格", square(105.80, 30.10, 105.82, 30.15))
    outside = feature("50015200100100102", "第2微网格", square(105.84, 30.10, 105.86, 30.15))
    report = grids_import_geojson(actor=bounded.admin, data=collection(inside, outside))
    assert [(e.index, e.field) for e in report.errors] == [(2, "geometry")]
    assert "微网格边界超出所属网格 500152001001001" in report.errors[0].message
    report = grids_import_geojson(actor=bounded.admin, data=collection(inside))
    micro = Grid.objects.get(code="50015200100100101")
    assert micro.tier == GridTier.MICRO and micro.parent == bounded.grid_a


def test_a_grid_redrawn_without_room_for_its_micro_grids_is_refused(bounded) -> None:
    micro_grid(bounded, bounded.grid_a, "01", 105.80, 105.82)
    data = collection(feature("500152001001001", "大佛社区第1网格", square(105.81, 30.10, 105.85, 30.20)))
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert [(e.index, e.field) for e in report.errors] == [(1, "geometry")]
    assert "新边界未完整包含其微网格 50015200100100101" in report.errors[0].message
    moved = feature("50015200100100101", "第1微网格", square(105.81, 30.10, 105.83, 30.20))
    assert grids_import_geojson(actor=bounded.admin, data=collection(data["features"][0], moved)).applied


def test_a_micro_grid_and_its_new_grid_can_come_in_one_file(bounded) -> None:
    data = redraw(bounded)
    data["features"].insert(
        0, feature("50015200100100301", "第3网格第1微网格", square(105.87, 30.10, 105.88, 30.20))
    )
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.applied and report.created == 2
    assert Grid.objects.get(code="50015200100100301").parent.code == "500152001001003"  # type: ignore[union-attr]


def test_overlapping_micro_grids_of_one_grid_are_warned(bounded) -> None:
    data = collection(
        feature("50015200100100101", "甲", square(105.80, 30.10, 105.83, 30.15)),
        feature("50015200100100102", "乙", square(105.82, 30.10, 105.85, 30.15)),
    )
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.applied
    assert [(w.index, w.code) for w in report.warnings] == [(1, "50015200100100101")]


def test_a_total_grid_over_its_grids_nests_and_does_not_overlap(bounded) -> None:
    data = collection(
        feature("500152001001000", "大佛社区总网格", square(105.80, 30.10, 105.90, 30.20), tier="总网格")
    )
    report = grids_import_geojson(actor=bounded.admin, data=data)
    assert report.applied and report.warnings == []
    assert Grid.objects.get(code="500152001001000").tier == GridTier.TOTAL


def test_micro_grids_do_not_count_as_overlapping_their_grid(bounded) -> None:
    data = collection(feature("50015200100100101", "甲", square(105.80, 30.10, 105.83, 30.15)))
    assert grids_import_geojson(actor=bounded.admin, data=data).warnings == []


def test_only_an_administrator_may_import(bounded) -> None:
    with pytest.raises(Forbidden):
        grids_import_geojson(actor=bounded.dispatcher, data=redraw(bounded))


def test_the_command_imports_and_prints_chinese(bounded, tmp_path) -> None:
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(redraw(bounded), ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    call_command("import_grids", str(path), "--dry-run", stdout=out)
    assert "预检通过，将新增 1 个" in out.getvalue()
    assert not Grid.objects.filter(code="500152001001003").exists()
    call_command("import_grids", str(path), stdout=out)
    assert Grid.objects.filter(code="500152001001003").exists()


def test_the_command_fails_on_errors_and_writes_nothing(bounded, tmp_path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(collection(feature("500152001001003", "自相交", BOWTIE))), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="未导入任何网格"):
        call_command("import_grids", str(path), stderr=err)
    assert "边界自相交" in err.getvalue()
    assert not Grid.objects.filter(code="500152001001003").exists()
