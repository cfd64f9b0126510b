"""The error report: the uploaded sheet again, with a red 错误原因 column and the faulty cells marked,
so the user fixes the rows in place and uploads the same file again; plus a 错误清单 sheet."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from .importers.base import Importer, RowError
from .importers.engine import Layout
from .xlsx import Workbook, column_letter

RED = "C62828"
ERROR_FILL = PatternFill("solid", fgColor="FDECEA")
HEADER_FILL = PatternFill("solid", fgColor=RED)
HEADER_FONT = Font(bold=True, color="FFFFFF")
REASON_FONT = Font(color=RED)
ERROR_COLUMN = "错误原因"


def reason_text(errors: list[RowError]) -> str:
    return "；".join(f"【{e.column}】{e.reason}" for e in errors)


def write_error_report(
    book: Workbook, layout: Layout, importer_class: type[Importer], errors: list[RowError], out: IO[bytes]
) -> None:
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        by_row[error.row].append(error)
    position_of = {
        c.header: layout.positions[c.key] for c in importer_class.columns if c.key in layout.positions
    }
    width = max(len(layout.headers), max(position_of.values(), default=-1) + 1)

    wb = OpenpyxlWorkbook(write_only=True)
    ws = wb.create_sheet(layout.sheet.title or "数据")
    ws.freeze_panes = f"A{layout.header_row + 1}"
    for index in range(width):
        ws.column_dimensions[column_letter(index)].width = 16
    ws.column_dimensions[column_letter(width)].width = 60

    def cell(value: Any, *, marked: bool = False) -> Any:
        if not marked and not isinstance(value, date | datetime):
            return value
        out_cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, datetime | date):
            out_cell.number_format = "yyyy-mm-dd"
        if marked:
            out_cell.fill = ERROR_FILL
        return out_cell

    expected = 1
    for number, values in book.rows(layout.sheet):
        while expected < number:  # keep Excel row numbers as in the upload
            ws.append([])
            expected += 1
        expected = number + 1
        padded = list(values) + [None] * (width - len(values))
        if number == layout.header_row:
            header = WriteOnlyCell(ws, value=ERROR_COLUMN)
            header.font, header.fill = HEADER_FONT, HEADER_FILL
            ws.append([*padded, header])
            continue
        row_errors = by_row.get(number)
        if not row_errors:
            ws.append([cell(v) for v in padded])
            continue
        marked = {position_of[e.column] for e in row_errors if e.column in position_of}
        reason = WriteOnlyCell(ws, value=reason_text(row_errors))
        reason.font = REASON_FONT
        reason.alignment = Alignment(wrap_text=True, vertical="top")
        ws.append([*(cell(v, marked=i in marked) for i, v in enumerate(padded)), reason])

    listing = wb.create_sheet("错误清单")
    listing.column_dimensions["A"].width = 8
    listing.column_dimensions["B"].width = 20
    listing.column_dimensions["C"].width = 80
    listing.append(["行号", "列名", "原因"])
    for error in sorted(errors, key=lambda e: e.row):
        listing.append([error.row, error.column, error.reason])
    wb.save(out)
