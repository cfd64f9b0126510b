"""Finding the grid a register row belongs to, and whether the importing user may write there."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dualgrid.places.models import AdminUnit, Grid

from .base import Column, Errors, ImportScope, Row
from .parsers import digits

GRID_COLUMN = Column(
    "grid",
    "网格编码",
    digits((15, 17), "网格编码"),
    required=True,
    help="15位网格编码（微网格17位），须已在系统中",
    example="500152001001001",
    text_format=True,
    width=20,
)


@dataclass(frozen=True)
class GridRef:
    pk: int
    code: str
    name: str
    active: bool
    ancestors: tuple[int | None, ...]  # village, town, county, city


class GridIndex:
    """The grids named in a file (and any others asked for by id), loaded in one or two queries."""

    def __init__(self, scope: ImportScope, codes: Iterable[str | None] = (), ids: Iterable[int] = ()) -> None:
        self.scope = scope
        rows = list(
            Grid.objects.filter(code__in={c for c in codes if c}).values_list(
                "pk", "code", "name", "active", "village_id", "town_id", "county_id"
            )
        )
        self.by_code: dict[str, GridRef] = {}
        self.by_id: dict[int, GridRef] = {}
        self._county_parent = dict(AdminUnit.objects.filter(level=2).values_list("pk", "parent_id"))
        self._add(rows)
        self.include_ids(ids)

    def _add(self, rows: list[tuple[int, str, str, bool, int, int, int]]) -> None:
        for pk, code, name, active, village, town, county in rows:
            ref = GridRef(pk, code, name, active, (village, town, county, self._county_parent.get(county)))
            self.by_code[code] = ref
            self.by_id[pk] = ref

    def include_ids(self, ids: Iterable[int]) -> None:
        missing = {i for i in ids if i not in self.by_id}
        if missing:
            self._add(
                list(
                    Grid.objects.filter(pk__in=missing).values_list(
                        "pk", "code", "name", "active", "village_id", "town_id", "county_id"
                    )
                )
            )

    def writable(self, grid_id: int) -> bool:
        ref = self.by_id.get(grid_id)
        return ref is not None and self.scope.covers(ref.ancestors)

    def resolve(
        self, row: Row, errors: Errors, key: str = "grid", header: str = "网格编码"
    ) -> GridRef | None:
        """The row's grid if it exists, is active and lies in the user's scope; else an error."""
        code = row.values.get(key)
        ref = self.by_code.get(code or "")
        if ref is None:
            errors.add(row, header, f"网格 {code} 不存在")
            return None
        if not ref.active:
            errors.add(row, header, f"网格已停用：{ref.name}")
            return None
        if not self.scope.covers(ref.ancestors):
            errors.add(row, header, f"网格“{ref.name}”{self.scope.refusal()}")
            return None
        return ref
