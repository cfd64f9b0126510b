"""Units, grids and departments: happy path, idempotent re-import, all-or-nothing with a row report."""

import io

from dualgrid.exchange.models import JobStatus
from dualgrid.exchange.xlsx import Workbook
from dualgrid.places.models import AdminUnit, Department, Grid, GridTier, UnitLevel

UNIT_HEADERS = ["区划代码", "名称", "层级", "上级区划代码"]
UNITS = [
    ["500152002000", "梓潼街道", "镇街", "500152000000"],
    ["500152002001", "凉风垭社区", "村/社区", "500152002000"],
    ["500152001009", "新建社区", "社区", "500152001000"],
]
GRID_HEADERS = [
    "网格编码",
    "网格名称",
    "所属村/社区代码",
    "网格层级",
    "上级网格编码",
    "网格类型",
    "户数",
    "人口",
    "是否启用",
]


def test_units_import_creates_parents_before_children(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    job = run_import(cast.admin, "units", UNIT_HEADERS, UNITS)
    assert job.status == JobStatus.DONE
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    village = AdminUnit.objects.get(code="500152002001")
    assert village.level == UnitLevel.VILLAGE
    assert village.parent is not None and village.parent.code == "500152002000"


def test_reimporting_the_same_units_changes_nothing(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(cast.admin, "units", UNIT_HEADERS, UNITS)
    job = run_import(cast.admin, "units", UNIT_HEADERS, UNITS)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 3)


def test_a_renamed_unit_is_updated(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    job = run_import(cast.admin, "units", UNIT_HEADERS, [["500152001001", "大佛社区（新）", "村/社区", ""]])
    assert (job.created_count, job.updated_count) == (0, 1)
    assert AdminUnit.objects.get(code="500152001001").name == "大佛社区（新）"


def test_one_bad_unit_row_applies_nothing_and_reports_each_row(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    rows = [
        *UNITS,
        ["500152002001", "重复", "村/社区", "500152002000"],
        ["50015200200", "短码", "村/社区", "500152002000"],
        ["500152003001", "孤儿", "村/社区", "500152009000"],
        ["500152001001", "改层级", "镇街", "500152000000"],
    ]
    job = run_import(cast.admin, "units", UNIT_HEADERS, rows)
    assert job.status == JobStatus.FAILED
    assert not AdminUnit.objects.filter(code__in=["500152002000", "500152002001", "500152001009"]).exists()
    assert [e[:2] for e in job.errors] == [[5, "区划代码"], [6, "区划代码"], [7, "上级区划代码"], [8, "层级"]]
    assert "与第3行重复" in job.errors[0][2]
    assert "12位数字" in job.errors[1][2]
    assert "都不存在" in job.errors[2][2]


def test_the_error_report_is_the_upload_with_a_red_reason_column(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    job = run_import(
        cast.admin, "units", UNIT_HEADERS, [*UNITS, ["500152003001", "孤儿", "村/社区", "500152009000"]]
    )
    with job.error_report.open("rb") as fh, Workbook(io.BytesIO(fh.read())) as book:
        data, listing = book.sheets
        rows = dict(book.rows(data))
        assert rows[1] == [*UNIT_HEADERS, "错误原因"]
        assert rows[2][:4] == UNITS[0] and len(rows[2]) == 4
        assert rows[5][:4] == ["500152003001", "孤儿", "村/社区", "500152009000"]
        assert rows[5][4] == "【上级区划代码】上级区划 500152009000 在文件和系统中都不存在"
        assert list(book.rows(listing))[1][1][:2] == [5, "上级区划代码"]


def test_grids_import_creates_a_grid_and_its_micro_grid(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["500152001001003", "大佛社区第3网格", "500152001001", "一般网格", None, "农村网格", 120, 300, "是"],
        [
            "50015200100100301",
            "第3网格微网格1",
            "500152001001",
            "微网格",
            "500152001001003",
            None,
            None,
            None,
            None,
        ],
    ]
    job = run_import(cast.admin, "grids", GRID_HEADERS, rows)
    assert job.status == JobStatus.DONE, job.errors
    micro = Grid.objects.get(code="50015200100100301")
    assert (
        micro.tier == GridTier.MICRO and micro.parent is not None and micro.parent.code == "500152001001003"
    )
    assert micro.town_id == cast.town_a.pk and micro.county_id == cast.county.pk
    again = run_import(cast.admin, "grids", GRID_HEADERS, rows)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)


def test_a_grid_in_a_village_that_does_not_exist_is_refused(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["500152001001003", "第3网格", "500152001001", None, None, None, None, None, None],
        ["500152009009001", "无主网格", "500152009009", None, None, None, None, None, None],
        ["500152101201002", "编码不符", "500152001001", None, None, None, None, None, None],
    ]
    job = run_import(cast.admin, "grids", GRID_HEADERS, rows)
    assert job.status == JobStatus.FAILED
    assert not Grid.objects.filter(code="500152001001003").exists()
    assert [e[:2] for e in job.errors] == [[3, "所属村/社区代码"], [4, "网格编码"]]


def test_grid_import_is_for_administrators_only(cast) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from dualgrid.exchange.services import importjob_create
    from dualgrid.lib.errors import Forbidden

    from .conftest import upload, xlsx_bytes

    with pytest.raises(Forbidden):
        importjob_create(user=cast.dispatcher, kind="grids", upload=upload(xlsx_bytes(GRID_HEADERS, [])))


def test_departments_import_is_idempotent(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    headers = ["部门编码", "部门名称", "所属区划代码", "值班电话", "是否启用"]
    rows = [
        ["CG", "区城市管理局", "500152000000", "023-44551234", "是"],
        ["GA", "区公安分局", "500152000000", None, None],
    ]
    job = run_import(cast.admin, "departments", headers, rows)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 0, 1)
    assert Department.objects.get(code="CG").phone == "023-44551234"
    again = run_import(cast.admin, "departments", headers, rows)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
