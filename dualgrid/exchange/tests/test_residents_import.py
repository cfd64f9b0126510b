"""Residents with households and tags: keyed by the ID number's hash, all or nothing, scoped."""

from datetime import date

import pytest

from dualgrid.exchange.models import JobStatus
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.idcard import make_id
from dualgrid.people.models import Household, Resident, ResidentTag

HEADERS = [
    "网格编码",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "手机号",
    "户地址",
    "门牌号",
    "是否户主",
    "人员标签",
    "关注程度",
]
GRID_A, GRID_C = "500152001001001", "500152101201001"
OLD_MAN = make_id("500152", date(1948, 5, 6), 11)
WIFE = make_id("500152", date(1950, 2, 3), 12)
CHILD = make_id("500152", date(2015, 9, 1), 13)


def rows() -> list[list[object]]:
    return [
        [
            GRID_A,
            "王大爷",
            OLD_MAN,
            "男",
            "1948-05-06",
            "13800001111",
            "大佛社区3栋",
            "101",
            "是",
            "空巢(独居)老人",
            "中等",
        ],
        [GRID_A, "李大妈", WIFE, "女", date(1950, 2, 3), "", "大佛社区3栋", "101", "否", None, None],
        [GRID_A, "王小宝", CHILD, None, None, None, None, None, None, "留守儿童、困境儿童", None],
    ]


def test_residents_are_imported_with_households_and_tags(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    job = run_import(cast.dispatcher, "residents", HEADERS, rows())
    assert job.status == JobStatus.DONE, job.errors
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    old = Resident.objects.get(id_number_hash=keyed_hash(OLD_MAN))
    assert (
        old.id_number == OLD_MAN
        and old.phone == "13800001111"
        and old.phone_hash == keyed_hash("13800001111")
    )
    assert old.household is not None and old.household.head_name == "王大爷"
    assert Resident.objects.get(id_number_hash=keyed_hash(WIFE)).household_id == old.household_id
    assert Household.objects.count() == 1
    child = Resident.objects.get(id_number_hash=keyed_hash(CHILD))
    assert child.gender == "M" and child.birth_date == date(2015, 9, 1) and child.household is None
    assert sorted(t.tag.name for t in child.tags.all()) == ["困境儿童", "留守儿童"]
    assert old.tags.get().level == "medium"


def test_the_id_number_is_stored_encrypted(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    run_import(cast.dispatcher, "residents", HEADERS, rows()[:1])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM people_resident")
        stored_id, stored_phone = cursor.fetchone()
    assert OLD_MAN not in stored_id and stored_id.startswith("enc1:")
    assert "13800001111" not in stored_phone


def test_reimporting_the_same_residents_changes_nothing(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(cast.dispatcher, "residents", HEADERS, rows())
    job = run_import(cast.dispatcher, "residents", HEADERS, rows())
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 3)
    assert (
        Resident.objects.count() == 3 and Household.objects.count() == 1 and ResidentTag.objects.count() == 3
    )


def test_a_changed_phone_and_a_new_tag_update_the_resident(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(cast.dispatcher, "residents", HEADERS, rows())
    changed = rows()
    changed[0][5] = "13900002222"
    changed[1][9] = "慢性病基础病患者"
    job = run_import(cast.dispatcher, "residents", HEADERS, changed)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 2, 1)
    assert Resident.objects.get(id_number_hash=keyed_hash(OLD_MAN)).phone == "13900002222"
    assert ResidentTag.objects.filter(resident__name="李大妈").count() == 1


def test_reimporting_a_tag_ended_on_the_page_opens_a_new_period(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.people.services import resident_tag_end

    run_import(cast.dispatcher, "residents", HEADERS, rows()[:1])
    ended = ResidentTag.objects.get()
    resident_tag_end(actor=cast.dispatcher, resident_tag=ended, ended_on=ended.since, reason="外出务工")
    job = run_import(cast.dispatcher, "residents", HEADERS, rows()[:1])
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 0)
    assert ResidentTag.objects.count() == 2
    assert ResidentTag.objects.get(ended_on__isnull=True).level == "medium"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("身份证号", OLD_MAN[:-1] + ("0" if OLD_MAN[-1] != "0" else "1"), "校验位错误"),
        ("身份证号", 5.00152194805061e17, "存成了数字"),
        ("身份证号", "5001**********1234", "脱敏"),
        ("出生日期", "1948-02-30", "日期不存在"),
        ("出生日期", "1949-05-06", "与身份证号不一致"),
        ("性别", "女", "与身份证号不一致"),
        ("网格编码", "500152009009001", "不存在"),
        ("手机号", "1380000", "格式不对"),
        ("人员标签", "不存在的标签", "没有这些标签"),
    ],
)
def test_a_bad_cell_applies_nothing_and_names_row_and_column(cast, run_import, column, value, reason) -> None:  # type: ignore[no-untyped-def]
    data = rows()
    data[2][HEADERS.index(column)] = value
    job = run_import(cast.dispatcher, "residents", HEADERS, data)
    assert job.status == JobStatus.FAILED
    assert Resident.objects.count() == 0 and Household.objects.count() == 0
    assert len(job.errors) == 1
    row, col, message = job.errors[0]
    assert (row, col) == (4, column) and reason in message


def test_two_heads_in_one_household_are_refused(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    data = rows()
    data[1][8] = "是"
    job = run_import(cast.dispatcher, "residents", HEADERS, data)
    assert job.errors == [[3, "是否户主", "同一户已有户主（第2行）"]]


def test_the_same_person_twice_in_a_file_is_refused(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    data = [*rows(), rows()[0]]
    job = run_import(cast.dispatcher, "residents", HEADERS, data)
    assert job.errors == [[5, "身份证号", "与第2行重复（身份证号相同）"]]


def test_a_town_dispatcher_cannot_import_residents_of_another_town(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    data = rows()
    data[0][0] = GRID_C  # 白兔村 is in town B, the town dispatcher's town
    job = run_import(cast.town_dispatcher, "residents", HEADERS, data)
    assert job.status == JobStatus.FAILED
    assert [e[:2] for e in job.errors] == [[3, "网格编码"], [4, "网格编码"]]
    assert "不在您的管辖范围（群力镇）内" in job.errors[0][2]
    assert Resident.objects.count() == 0


def test_a_town_dispatcher_imports_residents_of_their_own_town(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    data = [[GRID_C, *row[1:]] for row in rows()]
    job = run_import(cast.town_dispatcher, "residents", HEADERS, data)
    assert job.status == JobStatus.DONE and job.created_count == 3


def test_a_resident_registered_in_another_town_cannot_be_moved_by_import(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(cast.dispatcher, "residents", HEADERS, rows()[:1])  # in town A
    moved = [[GRID_C, *rows()[0][1:]]]
    job = run_import(cast.town_dispatcher, "residents", HEADERS, moved)
    assert job.errors == [[2, "身份证号", "该居民已登记在您管辖范围以外的网格，不能通过导入修改"]]


def test_the_template_example_row_is_skipped(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.exchange.importers.residents import ResidentsImporter

    headers = [c.header for c in ResidentsImporter.columns]
    example = [c.example if c.example != "" else None for c in ResidentsImporter.columns]
    mine = [GRID_A, "王大爷", OLD_MAN, *[None] * (len(headers) - 3)]
    job = run_import(cast.dispatcher, "residents", headers, [example, mine])
    assert job.status == JobStatus.DONE and job.created_count == 1
