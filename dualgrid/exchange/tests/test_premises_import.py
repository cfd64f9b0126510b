"""Rental houses, business premises and key places: created through people.services, idempotent."""

from typing import Any

from dualgrid.exchange.models import JobStatus
from dualgrid.people.models import BusinessPremise, KeyPlace, RentalHouse

GRID_A = "500152001001001"


def test_rental_houses_are_created_updated_and_left_alone(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    headers = ["网格编码", "地址", "房东姓名", "房东电话", "租住人数"]
    rows: list[list[Any]] = [
        [GRID_A, "大佛社区5栋302", "李四", "13712345678", 3],
        [GRID_A, "大佛社区6栋101", "赵五", None, None],
    ]
    job = run_import(cast.dispatcher, "rental_houses", headers, rows)
    assert job.status == JobStatus.DONE, job.errors
    assert job.created_count == 2
    house = RentalHouse.objects.get(address="大佛社区5栋302")
    assert house.landlord_phone == "13712345678" and house.tenants == 3
    rows[0][4] = 4
    job = run_import(cast.dispatcher, "rental_houses", headers, rows)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    house.refresh_from_db()
    assert house.tenants == 4


def test_business_premises_import_is_idempotent(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    headers = ["网格编码", "名称", "地址", "类别", "联系人", "联系电话"]
    rows = [[GRID_A, "老王火锅店", "滨江路12号", "餐饮", "王五", "13612345678"]]
    run_import(cast.dispatcher, "business_premises", headers, rows)
    job = run_import(cast.dispatcher, "business_premises", headers, rows)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 1)
    assert BusinessPremise.objects.get().category == "catering"


def test_a_key_place_needs_a_known_kind(cast, run_import) -> None:  # type: ignore[no-untyped-def]
    headers = ["网格编码", "名称", "类别", "地址"]
    job = run_import(cast.dispatcher, "key_places", headers, [[GRID_A, "大佛小学", "学堂", "学府路1号"]])
    assert job.status == JobStatus.FAILED
    assert job.errors[0][:2] == [2, "类别"] and "学校" in job.errors[0][2]
    assert not KeyPlace.objects.exists()
    job = run_import(cast.dispatcher, "key_places", headers, [[GRID_A, "大佛小学", "学校", "学府路1号"]])
    assert job.status == JobStatus.DONE and KeyPlace.objects.get().kind == "school"
