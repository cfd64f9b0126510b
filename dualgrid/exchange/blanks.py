"""Blank import templates (导入模板): the header row, one example row, drop-downs where a column has
fixed choices, text format for long digit columns, and a 说明 sheet explaining every column."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from .importers.base import Column, Importer

HEADER_FILL = PatternFill("solid", fgColor="E8F0FA")
REQUIRED_FONT = Font(bold=True, color="B3261E")
HEADER_FONT = Font(bold=True, color="10457F")
EXAMPLE_FONT = Font(italic=True, color="6B7280")
TEMPLATE_ROWS = 5000  # how far down the drop-downs reach
INLINE_LIST_LIMIT = 250  # Excel refuses a literal list longer than 255 characters
OPTIONS_SHEET = "选项"
COMMON_NOTES = (
    "第一行是表头，请勿修改列名（列的顺序可以调整，不需要的选填列可以删除）；标 * 的列必填。",
    "第二行是示例，与示例完全相同的行导入时会跳过，可直接覆盖成真实数据。",
    "导入时先校验全部行：只要有一行出错，就不会导入任何数据，并给出带“错误原因”列的错误报告，改正后重新上传即可。",
    "编码、身份证号、电话等长数字请保持“文本”格式，否则Excel会把末几位变成0。",
    "日期可写成 2024-03-05、2024/3/5、2024年3月5日 或 Excel 日期。",
)


def sheet_title(importer: type[Importer]) -> str:
    return importer.label.replace("/", "、")[:31]


def example_row(importer: type[Importer]) -> list[Any]:
    return [c.example if c.example != "" else None for c in importer.columns]


def _describe(column: Column) -> str:
    text = column.help
    options = column.choice_list()
    if options and "、".join(options) not in text:
        listed = "、".join(options)
        text = f"{text}；可选：{listed}" if text else f"可选：{listed}"
    return text


def build_template(importer: type[Importer]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(importer)
    options_ws = None
    for index, column in enumerate(importer.columns, start=1):
        letter = get_column_letter(index)
        header = ws.cell(row=1, column=index, value=f"*{column.header}" if column.required else column.header)
        header.font = REQUIRED_FONT if column.required else HEADER_FONT
        header.fill = HEADER_FILL
        header.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[letter].width = max(column.width, len(column.header) * 2 + 4)
        example = ws.cell(row=2, column=index, value=column.example if column.example != "" else None)
        example.font = EXAMPLE_FONT
        if column.text_format:
            # Text for the whole column, as Excel's own "format column as text" does: styling 5,000
            # empty cells instead made every filled-in template declare 5,000 rows, which a queued
            # import showed as its total until the worker had read the file.
            ws.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
            if example.value is not None:
                example.value = str(example.value)
        options = column.choice_list()
        if not options:
            continue
        literal = ",".join(options)
        if len(literal) <= INLINE_LIST_LIMIT and "," not in "".join(options):
            formula = f'"{literal}"'
        else:
            if options_ws is None:
                options_ws = wb.create_sheet(OPTIONS_SHEET)
                options_ws.sheet_state = "hidden"
            options_ws.cell(row=1, column=index, value=column.header)
            for offset, option in enumerate(options, start=2):
                options_ws.cell(row=offset, column=index, value=option)
            formula = f"{quote_sheetname(OPTIONS_SHEET)}!${letter}$2:${letter}${len(options) + 1}"
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        if column.free_choices:
            validation.showErrorMessage = False
        else:
            validation.error = f"请从下拉列表中选择{column.header}"
            validation.errorTitle = "输入有误"
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
        ws.add_data_validation(validation)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22

    notes = wb.create_sheet("说明")
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    notes.column_dimensions["D"].width = 24
    notes.append([f"{importer.label}导入模板 · 填写说明"])
    notes["A1"].font = Font(bold=True, size=14, color="10457F")
    notes.append([])
    for line in (*COMMON_NOTES, *importer.notes):
        notes.append([f"· {line}"])
    notes.append([])
    notes.append(["列名", "是否必填", "填写说明", "示例"])
    header_row = notes.max_row
    for cell in notes[header_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for column in importer.columns:
        notes.append(
            [column.header, "必填" if column.required else "选填", _describe(column), column.example or None]
        )
        notes.cell(row=notes.max_row, column=3).alignment = Alignment(wrap_text=True, vertical="top")
        if column.required:
            notes.cell(row=notes.max_row, column=2).font = Font(color="B3261E")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
