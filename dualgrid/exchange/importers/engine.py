"""Drives an importer over a workbook: find the sheet and its headers, parse and check every row,
and report errors per row (行号, 列名, 原因). Writing is the caller's business (``services``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ..xlsx import Sheet, Workbook
from .base import Errors, Importer, ImportRefused, Row

HEADER_SEARCH_ROWS = 5
SKIPPED_SHEETS = {"说明", "填写说明", "选项"}
PROGRESS_EVERY = 500
DEFAULT_MAX_ROWS = 200_000

Progress = Callable[[int], None]


def max_rows() -> int:
    return int(settings.DUALGRID.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def normalize_header(value: Any) -> str:
    """“*姓名”, “姓名（必填）”, “ 姓 名 ” all read as 姓名."""
    text = str(value or "").strip()
    text = text.replace("（", "(").replace("）", ")")
    text = re.sub(r"\((必填|选填|可选)\)", "", text)
    return re.sub(r"[\s*＊]", "", text)


@dataclass(frozen=True)
class Layout:
    """Where the data is: the sheet, its header row and the column index of each declared column."""

    sheet: Sheet
    header_row: int
    positions: dict[str, int]  # column key → 0-based index in the sheet
    headers: list[str]  # the header row as found (for the error report)
    declared_rows: int | None  # what the sheet's <dimension> says, when it says it


def locate(book: Workbook, importer_class: type[Importer]) -> Layout:
    """Find the first sheet with every required header in one of its first rows."""
    wanted = {normalize_header(c.header): c for c in importer_class.columns}
    required = {normalize_header(c.header) for c in importer_class.columns if c.required}
    best: tuple[int, set[str]] | None = None
    for sheet in book.sheets:
        if sheet.title.strip() in SKIPPED_SHEETS:
            continue
        for number, values in book.rows(sheet):
            if number > HEADER_SEARCH_ROWS:
                break
            found = {normalize_header(v): i for i, v in enumerate(values) if v is not None}
            present = set(found) & set(wanted)
            if present and (best is None or len(present) > best[0]):
                best = (len(present), required - present)
            if required <= set(found):
                positions = {wanted[h].key: i for h, i in found.items() if h in wanted}
                headers = [str(v) if v is not None else "" for v in values]
                return Layout(sheet, number, positions, headers, book.dimension_rows(sheet))
    if best is None:
        raise ImportRefused(
            f"没有找到“{importer_class.label}”的表头：请使用导入模板，在第一行填写列名"
            f"（必填列：{'、'.join(c.header for c in importer_class.columns if c.required)}）"
        )
    missing = [c.header for c in importer_class.columns if normalize_header(c.header) in best[1]]
    raise ImportRefused(f"缺少必填列：{'、'.join(missing)}")


def count_rows(book: Workbook, layout: Layout, limit: int) -> int:
    """Data rows (non-blank, below the header), counting no further than ``limit`` + 1."""
    n = 0
    for number, values in book.rows(layout.sheet):
        if number > layout.header_row and any(v is not None and str(v).strip() for v in values):
            n += 1
            if n > limit:
                break
    return n


def example_values(importer_class: type[Importer]) -> dict[str, Any] | None:
    """The template's example row as parsed values: a row equal to it is the example left in place."""
    from .parsers import CellError

    try:
        return {c.key: (None if c.example == "" else c.parse(c.example)) for c in importer_class.columns}
    except CellError:
        return None


def validate(
    importer: Importer, book: Workbook, layout: Layout, progress: Progress | None = None
) -> tuple[list[Row], Errors]:
    """Parse every data row and run the importer's checks; nothing is written.

    This loop runs once per cell of a register (1.4 million times for 100,000 residents), so it is
    written flat: the columns present in the sheet are resolved once, and a blank cell costs a test.
    """
    from .parsers import CellError

    errors = Errors()
    rows: list[Row] = []
    seen: dict[Hashable, int] = {}
    present = [
        (c.key, c.header, c.parse, c.required, layout.positions[c.key])
        for c in importer.columns
        if c.key in layout.positions
    ]
    limit = max_rows()
    key_headers = importer.key_headers()
    example = example_values(type(importer))
    example_items = [(k, v) for k, v in (example or {}).items() if v is not None]
    example_size = len(example_items)
    header_row = layout.header_row
    for number, values in book.rows(layout.sheet):
        if number <= header_row:
            continue
        width = len(values)
        parsed: dict[str, Any] = {}
        missing: list[str] = []
        broken = False
        for key, header, parse, required, position in present:
            raw = values[position] if position < width else None
            if raw is None or (raw.__class__ is str and not (raw := raw.strip())):
                if required:
                    missing.append(header)
                continue
            try:
                parsed[key] = parse(raw)
            except CellError as exc:
                errors.add(number, header, exc.reason)
                broken = True
        if not parsed and not broken:
            continue  # a blank row
        if example_size and len(parsed) == example_size and all(parsed.get(k) == v for k, v in example_items):
            continue  # the template's example row, left in place
        for header in missing:
            errors.add(number, header, "必填项不能为空")
        row = Row(number, parsed)
        rows.append(row)
        if len(rows) > limit:
            raise ImportRefused(f"文件超过{limit}行，请拆分后分批导入")
        identity = importer.natural_key(row)
        if identity is not None:
            first = seen.setdefault(identity, number)
            if first != number:
                errors.add(number, key_headers, f"与第{first}行重复（{key_headers}相同）")
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress(len(rows))
    if not rows:
        raise ImportRefused("文件中没有数据行（表头下方为空）")
    if progress is not None:
        progress(len(rows))
    importer.check(rows, errors)
    return rows, errors
