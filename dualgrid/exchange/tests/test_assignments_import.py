"""Staff assignments through people.services: history, grid access, overlaps, idempotency."""

from datetime import date

import time_machine

from dualgrid.exchange.models import JobStatus
from dualgrid.lib.idcard import make_id
from dualgrid.people.models import Assignment, Staff

HEADERS = ["姓名", "身份证号", "性别", "手机号", "网格编码", "角色", "任职日期", "离任日期", "离任原因"]
GRID_A, GRID_B = "500152001001001", "500152001001002"
CHEN = make_id("500152", date(1985, 3, 4), 101)
LIU = make_id("500152", date(1990, 7, 8), 203)


@time_machine.travel("2026-11-23 10:00 +0800", tick=False)
def test_assignments_are_started_and_ended_through_the_services(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["陈俊光", CHEN, "男", "13900001111", GRID_A, "专职网格员", "2024-03-01", None, None],
        ["陈俊光", CHEN, None, None, GRID_B, "网格长", "2023-01-01", "2024-01-01", "调任"],
        ["刘敏", LIU, None, None, GRID_A, "网格指导员", date(2025, 5, 1), None, None],
    ]
    job = run_import(cast.dispatcher, "assignments", HEADERS, rows)
    assert job.status == JobStatus.DONE, job.errors
    assert (job.created_count, job.updated_count, job.unchanged_count) == (3, 0, 0)
    chen = Staff.objects.get(name="陈俊光")
    assert chen.id_number == CHEN and chen.phone == "13900001111"
    ended = Assignment.objects.get(staff=chen, grid__code=GRID_B)
    assert ended.end_date == date(2024, 1, 1) and ended.end_reason == "调任"
    assert ended.created_by == cast.dispatcher
    again = run_import(cast.dispatcher, "assignments", HEADERS, rows)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert Assignment.objects.count() == 3 and Staff.objects.count() == 2


@time_machine.travel("2026-11-23 10:00 +0800", tick=False)
def test_an_end_date_added_later_ends_the_open_assignment(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(
        cast.dispatcher,
        "assignments",
        HEADERS,
        [["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2024-03-01", None, None]],
    )
    job = run_import(
        cast.dispatcher,
        "assignments",
        HEADERS,
        [["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2024-03-01", "2026-11-01", "离职"]],
    )
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Assignment.objects.get().end_date == date(2026, 11, 1)


@time_machine.travel("2026-11-23 10:00 +0800", tick=False)
def test_overlapping_periods_in_one_file_are_refused(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2024-03-01", None, None],
        ["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2025-01-01", None, None],
    ]
    job = run_import(cast.dispatcher, "assignments", HEADERS, rows)
    assert job.errors == [[3, "任职日期", "与第2行的任职期间重叠"]]
    assert not Staff.objects.exists()


@time_machine.travel("2026-11-23 10:00 +0800", tick=False)
def test_an_overlap_with_the_database_is_reported_by_row_and_nothing_is_kept(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(
        cast.dispatcher,
        "assignments",
        HEADERS,
        [["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2024-03-01", None, None]],
    )
    rows = [
        ["刘敏", LIU, None, None, GRID_B, "网格长", "2024-01-01", None, None],
        ["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2025-06-01", None, None],
    ]
    job = run_import(cast.dispatcher, "assignments", HEADERS, rows)
    assert job.status == JobStatus.FAILED
    assert [e[:2] for e in job.errors] == [[3, "任职日期"]] and "不能重叠" in job.errors[0][2]
    assert not Staff.objects.filter(name="刘敏").exists()


def test_an_unknown_role_and_a_wrong_name_are_reported(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    run_import(
        cast.dispatcher,
        "assignments",
        HEADERS,
        [["陈俊光", CHEN, None, None, GRID_A, "专职网格员", "2024-03-01", None, None]],
    )
    rows = [
        ["陈某", CHEN, None, None, GRID_B, "专职网格员", "2024-03-01", None, None],
        ["刘敏", LIU, None, None, GRID_B, "大队长", "2024-03-01", None, None],
    ]
    job = run_import(cast.dispatcher, "assignments", HEADERS, rows)
    assert [e[:2] for e in job.errors] == [[2, "姓名"], [3, "角色"]]
    assert "已登记为“陈俊光”" in job.errors[0][2]
