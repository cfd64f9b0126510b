"""Masking of personal data (手机号、身份证号) for display."""

import re

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalize_phone(raw: str) -> str:
    return re.sub(r"[\s()（）]", "", raw or "").replace("+86", "", 1)


def is_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value))


def mask_phone(value: str) -> str:
    """138****5678 for mobiles; landlines keep the area code and last four digits."""
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return f"{digits[:3]}{'*' * (len(digits) - 7 if len(digits) > 7 else 2)}{digits[-4:]}"
    return "****"


def mask_name(value: str) -> str:
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1) if len(value) > 1 else value
