"""Import jobs: what is refused at upload, claiming with compare-and-swap, progress, stale jobs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dualgrid.exchange import services
from dualgrid.exchange.models import ImportJob, JobStatus
from dualgrid.lib.errors import Forbidden, Invalid

from .conftest import upload, xlsx_bytes

UNIT_HEADERS = ["区划代码", "名称", "层级", "上级区划代码"]
ROWS = [["500152002000", "梓潼街道", "镇街", "500152000000"]]


def refusal(user, content: bytes, kind: str = "units", name: str = "a.xlsx") -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as exc:
        services.importjob_create(user=user, kind=kind, upload=upload(content, name))
    assert not ImportJob.objects.exists()
    return exc.value.errors["file"]


def test_a_file_that_is_not_excel_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    assert (
        refusal(cast.admin, "区划代码,名称\n".encode(), name="units.csv")
        == "文件不是有效的Excel（.xlsx）文件"
    )


def test_an_empty_file_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    assert refusal(cast.admin, b"") == "文件为空"


def test_a_workbook_without_data_rows_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    assert "没有数据行" in refusal(cast.admin, xlsx_bytes(UNIT_HEADERS, []))


def test_missing_required_headers_are_named(cast) -> None:  # type: ignore[no-untyped-def]
    message = refusal(
        cast.admin, xlsx_bytes(["区划代码", "上级区划代码"], [["500152002000", "500152000000"]])
    )
    assert message == "缺少必填列：名称、层级"


def test_a_workbook_of_something_else_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    assert "没有找到“行政区划”的表头" in refusal(cast.admin, xlsx_bytes(["甲", "乙"], [["1", "2"]]))


def test_an_oversized_upload_is_refused(cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "IMPORT_MAX_BYTES": 1024}
    assert "文件过大" in refusal(cast.admin, xlsx_bytes(UNIT_HEADERS, ROWS * 50))


def test_roles_that_may_not_import_are_refused(cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        services.importjob_create(
            user=cast.worker_a, kind="residents", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
        )


def test_a_queued_job_is_claimed_once(cast) -> None:  # type: ignore[no-untyped-def]
    job = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    assert job.status == JobStatus.QUEUED and job.total_rows == 1
    assert services.importjobs_process_next() is True
    assert services.importjobs_process_next() is False
    assert services.importjob_process(job_id=job.pk) is False  # already taken
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.processed_rows == 1 and job.created_count == 1
    assert job.started_at is not None and job.finished_at is not None


def test_jobs_run_oldest_first(cast) -> None:  # type: ignore[no-untyped-def]
    first = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    second = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    services.importjobs_process_next()
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {first.pk: JobStatus.DONE, second.pk: JobStatus.QUEUED}


def test_a_job_abandoned_by_a_dead_worker_is_taken_again(cast) -> None:  # type: ignore[no-untyped-def]
    job = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    long_ago = timezone.now() - timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.VALIDATING, heartbeat_at=long_ago)
    assert services.importjobs_process_next() is True
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_a_job_in_progress_is_left_to_its_worker(cast) -> None:  # type: ignore[no-untyped-def]
    job = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.VALIDATING, heartbeat_at=timezone.now())
    assert services.importjobs_process_next() is False


def test_the_upload_is_deleted_when_the_job_ends_and_an_audit_row_is_written(cast) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.accounts.models import AuditEntry

    job = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, ROWS))
    )
    path = job.source.path
    services.importjob_process(job_id=job.pk)
    job.refresh_from_db()
    assert not job.source
    import os

    assert not os.path.exists(path)
    entry = AuditEntry.objects.get(action="import")
    assert entry.user == cast.admin and "新增 1" in entry.detail


def test_progress_is_recorded_while_validating(cast, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.exchange.importers import engine

    monkeypatch.setattr(engine, "PROGRESS_EVERY", 2)
    seen: list[int] = []
    real_update = services._update

    def spy(job_id: int, **fields: object) -> None:
        if "processed_rows" in fields and "status" not in fields:
            seen.append(int(fields["processed_rows"]))  # type: ignore[call-overload]
        real_update(job_id, **fields)

    monkeypatch.setattr(services, "_update", spy)
    rows = [[f"5001520020{i:02d}", f"村{i}", "村/社区", "500152001000"] for i in range(1, 6)]
    job = services.importjob_create(
        user=cast.admin, kind="units", upload=upload(xlsx_bytes(UNIT_HEADERS, rows))
    )
    services.importjob_process(job_id=job.pk)
    assert seen == [2, 4, 5]
