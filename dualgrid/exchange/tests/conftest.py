"""Helpers of the exchange tests: workbooks built in memory, uploads, and a private root per test."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from dualgrid.accounts.models import User
from dualgrid.exchange.models import ImportJob
from dualgrid.exchange.services import importjob_create, importjob_process

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "数据") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(content: bytes, name: str = "导入.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "PRIVATE_ROOT": str(tmp_path / "private")}


@pytest.fixture
def run_import() -> Callable[..., ImportJob]:
    """``run_import(user, kind, headers, rows)``: upload and process at once, return the finished job."""

    def run(user: User, kind: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> ImportJob:
        job = importjob_create(user=user, kind=kind, upload=upload(xlsx_bytes(headers, rows)))
        assert importjob_process(job_id=job.pk)
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def login() -> Callable[[User], Any]:
    from django.test import Client

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def shared_strings_xlsx(rows: Sequence[Sequence[str]]) -> bytes:
    """A workbook as Excel and WPS write it (strings in xl/sharedStrings.xml), which openpyxl never does."""
    import zipfile

    strings: list[str] = []
    index: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows, start=1):
        parts = []
        for c, value in enumerate(row):
            if value not in index:
                index[value] = len(strings)
                strings.append(value)
            parts.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index[value]}</v></c>')
        cells.append(f'<row r="{r}">{"".join(parts)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} {rel_ns}><sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="worksheet"/></Relationships>',
        )
        z.writestr("xl/sharedStrings.xml", f"<sst {ns}>{items}</sst>")
        z.writestr(
            "xl/worksheets/sheet1.xml", f"<worksheet {ns}><sheetData>{''.join(cells)}</sheetData></worksheet>"
        )
    return buf.getvalue()
