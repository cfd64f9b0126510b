"""The streaming reader: values as Excel stores them, and files that are not .xlsx."""

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook as OpenpyxlWorkbook

from dualgrid.exchange.xlsx import NOT_XLSX, NotAWorkbook, Workbook, column_index, column_letter

from .conftest import shared_strings_xlsx


def test_it_reads_numbers_text_booleans_and_date_cells() -> None:
    wb = OpenpyxlWorkbook()
    ws = wb.active
    assert ws is not None
    ws.append(["编码", "日期", "数量", "是否"])
    ws.append(["500152001001", date(2024, 3, 5), 12, True])
    ws.append([None, None, 1.5, None])
    buf = io.BytesIO()
    wb.save(buf)
    with Workbook(buf) as book:
        rows = list(book.rows(book.sheets[0]))
    assert rows == [
        (1, ["编码", "日期", "数量", "是否"]),
        (2, ["500152001001", datetime(2024, 3, 5), 12, True]),
        (3, [None, None, 1.5]),
    ]


def test_it_reads_shared_strings_as_excel_writes_them() -> None:
    content = shared_strings_xlsx(
        [["姓名", "网格编码"], ["张三", "500152001001001"], ["李四", "500152001001001"]]
    )
    with Workbook(io.BytesIO(content)) as book:
        assert [s.title for s in book.sheets] == ["居民"]
        rows = [values for _, values in book.rows(book.sheets[0])]
    assert rows[2] == ["李四", "500152001001001"]


def test_it_treats_east_asian_builtin_date_formats_as_dates() -> None:
    wb = OpenpyxlWorkbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = 45356
    ws["A1"].number_format = 'yyyy"年"m"月"d"日"'
    buf = io.BytesIO()
    wb.save(buf)
    with Workbook(buf) as book:
        assert next(book.rows(book.sheets[0]))[1] == [datetime(2024, 3, 5)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件为空"),
        ("姓名,身份证号\n张三,1\n".encode(), NOT_XLSX),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
        (b"PK\x03\x04 truncated zip", NOT_XLSX),
    ],
)
def test_it_refuses_files_that_are_not_xlsx(content: bytes, message: str) -> None:
    with pytest.raises(NotAWorkbook) as exc:
        Workbook(io.BytesIO(content))
    assert message in exc.value.message


def test_it_refuses_a_zip_that_is_not_a_workbook() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<document/>")
    with pytest.raises(NotAWorkbook):
        Workbook(buf)


def test_column_letters_round_trip() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27)] == ["A", "Z", "AA", "AB"]
    assert [column_index(ref) for ref in ("A1", "Z9", "AA10", "AB7")] == [0, 25, 26, 27]
