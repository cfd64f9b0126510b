"""Where a grid may sit in the tree, as one pure check shared by the admin form, the services and the
GeoJSON importer. Codes (STANDARDS.md): a grid is its village's 12-digit code + a 3-digit sequence,
a micro-grid its grid's 15-digit code + a 2-digit sequence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import AdminUnit, GridTier, UnitLevel

GRID_CODE_RE = re.compile(r"^\d{15}$")
MICRO_CODE_RE = re.compile(r"^\d{17}$")


@dataclass(frozen=True)
class ParentRef:
    """What the check needs to know of a parent grid (a saved Grid or a row of an import file)."""

    code: str
    tier: str
    village_id: int | None


def placement_errors(
    *, code: str, tier: str, village: AdminUnit | None, parent: ParentRef | None
) -> dict[str, str]:
    """Field → Chinese message for every rule the placement breaks; empty when it is fine."""
    errors: dict[str, str] = {}
    code = code or ""
    if tier not in GridTier.values:
        errors["tier"] = "网格层级应为 总网格、一般网格 或 微网格"
        return errors
    if tier == GridTier.MICRO:
        if not MICRO_CODE_RE.match(code):
            errors["code"] = "微网格编码应为17位数字（上级网格编码 + 2位序号）"
        if parent is None:
            errors["parent"] = "微网格须指定上级网格"
        elif parent.tier != GridTier.GENERAL:
            errors["parent"] = "微网格的上级应为一般网格"
        elif "code" not in errors and code[:15] != parent.code:
            errors["code"] = f"微网格编码应为上级网格编码 {parent.code} 加2位序号"
        elif village is not None and parent.village_id is not None and parent.village_id != village.pk:
            errors["parent"] = "微网格与上级网格应属于同一村/社区"
    else:
        if not GRID_CODE_RE.match(code):
            errors["code"] = "网格编码应为15位数字（村/社区12位区划代码 + 3位序号），微网格为17位"
        if parent is not None:
            if tier == GridTier.TOTAL:
                errors["parent"] = "总网格没有上级网格"
            elif parent.tier != GridTier.TOTAL:
                errors["parent"] = "一般网格的上级只能是总网格（微网格的上级才是一般网格）"
            elif village is not None and parent.village_id is not None and parent.village_id != village.pk:
                errors["parent"] = "一般网格与其总网格应属于同一村/社区"
    if village is None:
        errors.setdefault("village", "请指定所属村/社区")
    elif village.level != UnitLevel.VILLAGE:
        errors.setdefault("village", "所属单位应为村/社区")
    elif "code" not in errors and code[:12] != village.code:
        errors["code"] = f"网格编码前12位应为所属村/社区（{village.name}）的区划代码 {village.code}"
    return errors
