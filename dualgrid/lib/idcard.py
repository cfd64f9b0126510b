"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation, masking, generation.

Eighteen characters: a 6-digit area code, the birth date (YYYYMMDD), a 3-digit sequence (odd for
men, even for women) and a check character computed with ISO 7064 MOD 11-2 over the first 17
digits (``0``–``9`` or ``X`` for ten).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")
EARLIEST_BIRTH = date(1890, 1, 1)


class IdCardError(ValueError):
    """An ID number that cannot be right; ``message`` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IdCard:
    number: str
    area: str
    birth_date: date
    male: bool


def normalize_id(raw: str) -> str:
    """Strip spaces and make a lower-case x upper-case; nothing else is changed."""
    return re.sub(r"\s", "", raw or "").upper()


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id(raw: str, *, today: date | None = None) -> IdCard:
    """Validate an ID number; raise ``IdCardError`` (in Chinese) for the first thing wrong with it."""
    number = normalize_id(raw)
    if not ID_RE.match(number):
        raise IdCardError("身份证号应为18位，前17位为数字，最后一位为数字或X")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdCardError("身份证号中的出生日期不存在") from None
    if birth < EARLIEST_BIRTH or birth > (today or date.today()):
        raise IdCardError("身份证号中的出生日期不合理")
    if check_char(number[:17]) != number[17]:
        raise IdCardError("身份证号校验位错误，请核对")
    return IdCard(number=number, area=number[:6], birth_date=birth, male=int(number[16]) % 2 == 1)


def is_valid_id(raw: str) -> bool:
    try:
        parse_id(raw)
    except IdCardError:
        return False
    return True


def looks_like_id(raw: str) -> bool:
    """Shaped like an ID number (for search: decide between a hash lookup and a name search)."""
    return bool(ID_RE.match(normalize_id(raw)))


def mask_id(value: str) -> str:
    """5001**********1234: the first four and last four characters, the rest starred."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def make_id(area: str, birth: date, sequence: int) -> str:
    """A valid number for ``area`` (6 digits), ``birth`` and a 3-digit ``sequence`` (odd = male)."""
    if not re.fullmatch(r"\d{6}", area) or not 0 <= sequence <= 999:
        raise ValueError("area must be 6 digits and sequence 0-999")
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
