"""Small reads the pages need that are not about one case: choice lists, the grid map layer,
and the places a user may dispatch to. Everything here is scoped like the case selectors."""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from shapely import wkt
from shapely.geometry import mapping

from dualgrid.accounts.models import Role, User, effective_role
from dualgrid.cases.models import Category
from dualgrid.places.models import AdminUnit, Department, Grid, GridTier
from dualgrid.places.selectors import within_unit

GEOJSON_CACHE_KEY = "web:grids.geojson"
GEOJSON_CACHE_SECONDS = 300
GRID_OPTIONS_LIMIT = 50

ChoiceList = list[tuple[str, Any]]


def category_choices() -> ChoiceList:
    """Active categories grouped under their level-1 parent, for a <select> with <optgroup>s.

    A level-1 category without children is offered on its own; deeper levels are listed under
    their level-1 ancestor with their path.
    """
    rows = list(Category.objects.filter(active=True).select_related("parent", "parent__parent"))
    by_parent: dict[int, list[Category]] = {}
    roots: list[Category] = []
    for row in rows:
        if row.parent_id is None:
            roots.append(row)
        else:
            by_parent.setdefault(row.parent_id, []).append(row)

    def descendants(node: Category, prefix: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for child in by_parent.get(node.pk, []):
            label = f"{prefix}{child.name}"
            out.append((child.code, label))
            out.extend(descendants(child, f"{label}/"))
        return out

    choices: ChoiceList = []
    for root in roots:
        children = descendants(root, "")
        if children:
            choices.append((root.name, [(root.code, f"{root.name}（其他）"), *children]))
        else:
            choices.append((root.code, root.name))
    return choices


def grids_in_scope(user: User) -> QuerySet[Grid]:
    """Active grids the user may pick (dispatch target, list filter)."""
    qs = Grid.objects.filter(active=True).select_related("village")
    role = effective_role(user)
    if role == Role.ADMIN:
        return qs
    if role == Role.GRIDWORKER:
        return qs.filter(pk__in=user.grids.values("pk"))
    if user.unit_id and user.unit is not None:
        return qs.filter(within_unit(user.unit))
    return qs.none()


def grid_options(user: User, query: str = "", selected_id: int | None = None) -> list[Grid]:
    """Up to GRID_OPTIONS_LIMIT grids in scope matching a name, village or code; the selected one first."""
    qs = grids_in_scope(user)
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__contains=query) | Q(code__startswith=query) | Q(village__name__contains=query))
    grids = list(qs.order_by("code")[:GRID_OPTIONS_LIMIT])
    if selected_id and all(g.pk != selected_id for g in grids):
        selected = grids_in_scope(user).filter(pk=selected_id).first()
        if selected is not None:
            grids.insert(0, selected)
    return grids


def departments_in_scope(user: User) -> QuerySet[Department]:
    """Active departments at the user's unit, above it, or below it."""
    qs = Department.objects.filter(active=True).select_related("unit")
    if effective_role(user) == Role.ADMIN:
        return qs
    unit = user.unit
    if unit is None:
        return qs.none()
    ancestors = []
    node: AdminUnit | None = unit
    while node is not None:
        ancestors.append(node.pk)
        node = node.parent
    below = (
        Q(unit__parent_id=unit.pk)
        | Q(unit__parent__parent_id=unit.pk)
        | Q(unit__parent__parent__parent_id=unit.pk)
    )
    return qs.filter(Q(unit_id__in=ancestors) | below)


def grids_geojson() -> str:
    """All active grids (not micro-grids: routing places points in their grid) as a GeoJSON
    FeatureCollection, the maps' base layer. The serialised text is cached under a key that changes
    with any grid edit, so a hit costs one small aggregate query and an import shows at once."""
    grids = Grid.objects.filter(active=True).exclude(tier=GridTier.MICRO)
    stamp = grids.aggregate(n=Count("id"), last=Max("updated_at"))
    key = f"{GEOJSON_CACHE_KEY}:{stamp['n']}:{stamp['last'].timestamp() if stamp['last'] else 0}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    features = []
    rows = grids.values_list("id", "code", "name", "village__name", "boundary")
    for grid_id, code, name, village, boundary in rows.iterator(chunk_size=2000):
        if not boundary:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(wkt.loads(boundary)),
                "properties": {"id": grid_id, "code": code, "name": name, "village": village},
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    cache.set(key, text, GEOJSON_CACHE_SECONDS)
    return text
