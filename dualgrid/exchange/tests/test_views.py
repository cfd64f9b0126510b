"""The pages: upload, job status (htmx), error report download, templates."""

import io

import pytest
from django.urls import reverse

from dualgrid.accounts.models import AuditEntry
from dualgrid.exchange.importers import IMPORTERS
from dualgrid.exchange.importers.engine import example_values, locate
from dualgrid.exchange.models import ImportJob, JobStatus
from dualgrid.exchange.xlsx import Workbook

from .conftest import upload, xlsx_bytes

HEADERS = ["网格编码", "姓名", "身份证号"]


def test_a_small_upload_is_processed_at_once_and_shows_the_counts(cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    response = client.post(
        reverse("exchange:import"),
        {
            "kind": "residents",
            "file": upload(xlsx_bytes(HEADERS, [["500152001001001", "王大爷", valid_id()]])),
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchange:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "导入完成" in page and "新增 <b>1</b>" in page
    assert 'hx-trigger="every 1s"' not in page


def valid_id() -> str:
    from datetime import date

    from dualgrid.lib.idcard import make_id

    return make_id("500152", date(1948, 5, 6), 11)


def test_a_file_with_errors_shows_the_rows_and_offers_the_report(cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    bad_id = valid_id()[:-1] + ("1" if valid_id()[-1] != "1" else "2")
    client.post(
        reverse("exchange:import"),
        {"kind": "residents", "file": upload(xlsx_bytes(HEADERS, [["500152001001001", "王大爷", bad_id]]))},
    )
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED
    page = client.get(reverse("exchange:job", args=[job.pk])).content.decode()
    assert "第 2 行" in page and "身份证号校验位错误" in page and "下载错误报告" in page
    report = client.get(reverse("exchange:job_report", args=[job.pk]))
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxml")
    with Workbook(io.BytesIO(report.content)) as book:
        header = next(book.rows(book.sheets[0]))[1]
    assert header[-1] == "错误原因"
    assert AuditEntry.objects.filter(action="download", user=cast.dispatcher).exists()


def test_a_file_level_problem_is_shown_on_the_form(cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    response = client.post(
        reverse("exchange:import"), {"kind": "residents", "file": upload(b"not excel", "x.xls")}
    )
    assert response.status_code == 422
    assert "文件不是有效的Excel（.xlsx）文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_large_upload_is_queued_for_the_worker_and_polled(cast, login, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "IMPORT_INLINE_ROWS": 1}
    client = login(cast.dispatcher)
    client.post(
        reverse("exchange:import"),
        {
            "kind": "residents",
            "file": upload(xlsx_bytes(HEADERS, [["500152001001001", "王大爷", valid_id()]])),
        },
    )
    job = ImportJob.objects.get()
    assert job.status == JobStatus.QUEUED
    fragment = client.get(reverse("exchange:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "排队中" in fragment and "<html" not in fragment


def test_someone_elses_job_does_not_exist(cast, login) -> None:  # type: ignore[no-untyped-def]
    job = ImportJob.objects.create(kind="residents", original_name="a.xlsx", created_by=cast.admin)
    assert login(cast.dispatcher).get(reverse("exchange:job", args=[job.pk])).status_code == 404


def test_the_import_page_is_for_administrators_and_dispatchers(cast, login) -> None:  # type: ignore[no-untyped-def]
    assert login(cast.worker_a).get(reverse("exchange:import")).status_code == 403
    page = login(cast.dispatcher).get(reverse("exchange:import")).content.decode()
    assert "实有人口（含户）" in page and "行政区划" not in page  # the places tree is the administrator's
    assert "行政区划" in login(cast.admin).get(reverse("exchange:import")).content.decode()


@pytest.mark.parametrize("kind", list(IMPORTERS))
def test_every_template_has_its_headers_notes_and_a_valid_example(cast, login, kind) -> None:  # type: ignore[no-untyped-def]
    response = login(cast.dispatcher).get(reverse("exchange:template", args=[kind]))
    assert response.status_code == 200
    cls = IMPORTERS[kind]
    assert example_values(cls) is not None, "the example row must pass the importer's own parsers"
    with Workbook(io.BytesIO(response.content)) as book:
        layout = locate(book, cls)
        assert set(layout.positions) == {c.key for c in cls.columns}
        assert "说明" in [s.title for s in book.sheets]
