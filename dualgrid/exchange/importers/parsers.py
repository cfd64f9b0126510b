"""Cell parsers: raw cell value (str, int, float, bool, datetime or None) → clean value.

Each raises ``CellError`` with a Chinese reason the user can act on; the engine adds the row and
column. Parsers never see empty cells: the engine turns blanks into ``None`` (or a "required" error).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from dualgrid.lib.idcard import IdCardError, parse_id
from dualgrid.lib.privacy import is_phone, normalize_phone

Parser = Callable[[Any], Any]
LIST_SEPARATORS = re.compile(r"[、,，;；\s/]+")
DATE_TEXT_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 1, 2958465  # 1900-01-01 … 9999-12-31


class CellError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def text(max_length: int) -> Parser:
    """Any value as stripped text, at most ``max_length`` characters."""

    def parse(value: Any) -> str:
        if value.__class__ is str:  # the common case, already stripped by the engine
            if len(value) > max_length:
                raise CellError(f"内容过长（{len(value)}个字），最多{max_length}个字")
            return value  # type: ignore[no-any-return]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, datetime):
            value = value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
        result = str(value).strip()
        if len(result) > max_length:
            raise CellError(f"内容过长（{len(result)}个字），最多{max_length}个字")
        return result

    return parse


def digits(length: int | Sequence[int], what: str) -> Parser:
    """A code of digits (区划代码, 网格编码): text, or a number Excel kept exactly."""
    lengths = (length,) if isinstance(length, int) else tuple(length)
    shown = "或".join(str(n) for n in lengths)

    def parse(value: Any) -> str:
        if isinstance(value, float):
            if not value.is_integer() or value >= 1e15:
                raise CellError(
                    f"{what}被Excel存成了科学计数法数字，末位已丢失；请把该列设为“文本”后重新填写"
                )
            value = int(value)
        result = str(value).strip().replace(" ", "")
        if not result.isdigit() or len(result) not in lengths:
            raise CellError(f"{what}应为{shown}位数字，实际为“{result}”")
        return result

    return parse


def choice(options: Mapping[str, Any], what: str) -> Parser:
    """One of the labels in ``options`` (label → stored value); the message lists them."""
    listed = "、".join(options)

    def parse(value: Any) -> Any:
        key = str(value).strip()
        if key not in options:
            raise CellError(f"{what}应为 {listed} 之一，实际为“{key}”")
        return options[key]

    return parse


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = str(value).strip()
    if key in {"是", "Y", "y", "1", "TRUE", "true", "启用", "√"}:
        return True
    if key in {"否", "N", "n", "0", "FALSE", "false", "停用", "×"}:
        return False
    raise CellError(f"应填“是”或“否”，实际为“{key}”")


def gender(value: Any) -> str:
    key = str(value).strip()
    if key in {"男", "男性"}:
        return "M"
    if key in {"女", "女性"}:
        return "F"
    raise CellError(f"性别应为“男”或“女”，实际为“{key}”")


def count(maximum: int) -> Parser:
    """A whole number from 0 to ``maximum``."""

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise CellError("应为整数")
        if isinstance(value, float):
            if not value.is_integer():
                raise CellError(f"应为整数，实际为“{value:g}”")
            value = int(value)
        if isinstance(value, str):
            stripped = value.strip().replace(",", "")
            if not stripped.isdigit():
                raise CellError(f"应为整数，实际为“{value.strip()}”")
            value = int(stripped)
        if not isinstance(value, int) or not 0 <= value <= maximum:
            raise CellError(f"应为0到{maximum}之间的整数")
        return value

    return parse


def _checked_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"日期不存在：“{shown}”") from None


def a_date(value: Any) -> date:
    """A date as Excel keeps it (a date cell, a serial number) or as people type it:
    2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305."""
    if value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        # The usual spelling (2024-03-05), without the regular expression.
        try:
            return date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            pass  # the general path below says what is wrong with it
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError("应为日期，如 2024-03-05")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(f"应为日期，如 2024-03-05，实际为“{value:g}”")
        number = int(value)
        if 19000101 <= number <= 99991231:
            return _checked_date(number // 10000, number // 100 % 100, number % 100, str(number))
        if EXCEL_SERIAL_MIN <= number <= EXCEL_SERIAL_MAX:
            return date(1899, 12, 30) + timedelta(days=number)
        raise CellError(f"应为日期，如 2024-03-05，实际为“{number}”")
    shown = str(value).strip()
    match = DATE_TEXT_RE.match(shown) or COMPACT_DATE_RE.match(shown)
    if not match:
        raise CellError(f"日期格式无法识别：“{shown}”，请填写如 2024-03-05")
    year, month, day = (int(g) for g in match.groups())
    return _checked_date(year, month, day, shown)


_today: tuple[float, date] = (0.0, date.min)


def local_today() -> date:
    """Today in Asia/Shanghai, read at most once a second (this runs once per row of a register)."""
    global _today
    now = time.monotonic()
    if now - _today[0] > 1.0:
        _today = (now, timezone.localdate())
    return _today[1]


def past_date(value: Any) -> date:
    """A date that cannot lie in the future (a birth date, a start in the past is fine too)."""
    result = a_date(value)
    if result > local_today():
        raise CellError(f"日期不能晚于今天：“{result.isoformat()}”")
    if result.year < 1890:
        raise CellError(f"日期不合理：“{result.isoformat()}”")
    return result


def plausible_date(value: Any) -> date:
    """A date within reason for a register (1950 … ten years ahead)."""
    result = a_date(value)
    if not 1950 <= result.year <= local_today().year + 10:
        raise CellError(f"日期不合理：“{result.isoformat()}”")
    return result


def phone(value: Any) -> str:
    """A mobile (11 digits) or landline (0 + area code + number)."""
    if (
        value.__class__ is str
        and len(value) == 11
        and value.isdigit()
        and value[0] == "1"
        and value[1] in "3456789"
    ):
        return value  # a mobile number as typed, the usual case
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = str(value).strip()
    if "*" in raw:
        raise CellError("电话号码是脱敏后的（含*），请填写完整号码")
    number = normalize_phone(raw)
    if not is_phone(number):
        raise CellError(f"电话号码格式不对：“{raw}”")
    return number


def id_number(value: Any) -> str:
    """A resident ID number (GB 11643), checksum included; returns it upper-cased."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError("身份证号被Excel存成了数字，末几位已丢失；请把该列设为“文本”后重新填写")
    raw = str(value).strip()
    if "*" in raw:
        raise CellError("身份证号是脱敏后的（含*），请填写完整号码")
    try:
        return parse_id(raw, today=local_today()).number
    except IdCardError as exc:
        raise CellError(exc.message) from None


def name_list(value: Any) -> list[str]:
    """Several names in one cell, separated by 、 , ， ; ； / or spaces."""
    return [part for part in LIST_SEPARATORS.split(str(value).strip()) if part]
