"""Routing: which handling unit a new case goes to (category × place → grid or department)."""

from __future__ import annotations

from dataclasses import dataclass

from dualgrid.places.models import Department, Grid

from . import config
from .models import Category, HandlerKind, RoutingRule


@dataclass(frozen=True)
class Route:
    rule: RoutingRule
    grid: Grid | None
    department: Department | None

    @property
    def label(self) -> str:
        return self.grid.name if self.grid else (self.department.name if self.department else "")


def _category_chain(category: Category) -> list[int]:
    chain: list[int] = []
    node: Category | None = category
    while node is not None:
        chain.append(node.id)
        node = node.parent
    return chain


def route_case(*, category: Category | None, grid: Grid | None, unit_ids: list[int]) -> Route | None:
    """The best rule for a case, or None (the case waits in the dispatcher's queue).

    ``unit_ids`` are the place's village, town and county ids (most specific first). A rule on a more
    specific category beats one on its parent; then a rule for a smaller unit beats a wider one; then
    the higher priority. A grid rule cannot apply to a case whose place lies in no grid.
    """
    if category is None:
        return None
    chain = _category_chain(category)
    by_category = config.snapshot().rules_by_category
    rules = [rule for category_id in chain for rule in by_category.get(category_id, [])]
    best: tuple[tuple[int, int, int], RoutingRule] | None = None
    for rule in rules:
        if rule.unit_id is not None and rule.unit_id not in unit_ids:
            continue
        if rule.handler == HandlerKind.GRID and grid is None:
            continue
        if rule.handler == HandlerKind.DEPARTMENT and not (rule.department and rule.department.active):
            continue
        unit_rank = unit_ids.index(rule.unit_id) if rule.unit_id is not None else len(unit_ids)
        key = (chain.index(rule.category_id), unit_rank, -rule.priority)
        if best is None or key < best[0]:
            best = (key, rule)
    if best is None:
        return None
    rule = best[1]
    if rule.handler == HandlerKind.GRID:
        return Route(rule=rule, grid=grid, department=None)
    return Route(rule=rule, grid=None, department=rule.department)
