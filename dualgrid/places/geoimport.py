"""Reading and checking a GeoJSON file of grid boundaries, before anything is written.

``plan_import`` turns a FeatureCollection into one ``GridDraft`` per feature and an ``ImportReport``
holding every error (per feature: index, code, field, reason in Chinese) and every warning (overlaps
with neighbouring grids, parts of a village no grid covers). ``services.grids_import_geojson`` writes
the drafts only when there is no error at all.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import wkt
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .models import AdminUnit, Grid, GridKind, GridTier, UnitLevel
from .rules import ParentRef, placement_errors

MAX_FEATURES = 20_000
# A grid may stick out of its village by this much (degrees, ~1 cm) before it counts as outside.
EDGE_TOLERANCE = 1e-7
# Overlaps and gaps smaller than this (square degrees, ~1 m²) are rounding, not findings.
AREA_EPSILON = 1e-10
# A village gap is worth a warning from this share of the village's area on.
GAP_SHARE = 0.001
WGS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "EPSG:4490"}

TIER_ALIASES = {label: value for value, label in GridTier.choices} | {v: v for v in GridTier.values}
KIND_ALIASES = (
    {label: value for value, label in GridKind.choices}
    | {v: v for v in GridKind.values}
    | {"城市社区": GridKind.URBAN, "农村": GridKind.RURAL, "专属": GridKind.EXCLUSIVE}
)

VALIDITY_REASONS = {
    "Ring Self-intersection": "边界线自身打结（环自相交）",
    "Self-intersection": "边界自相交",
    "Hole lies outside shell": "内环（镂空部分）位于外边界之外",
    "Holes are nested": "内环相互嵌套",
    "Interior is disconnected": "内环把面切成了互不相连的几块",
    "Nested shells": "多个外边界相互嵌套",
    "Duplicate Rings": "存在重复的环",
    "Too few distinct points": "边界的不同坐标点少于3个",
    "Too few points": "边界的不同坐标点少于3个",
    "Invalid Coordinate": "坐标值无效",
    "Ring is not closed": "边界环未闭合",
    "Repeated Point": "存在重复坐标点",
}


FIELD_LABELS = {
    "file": "文件",
    "crs": "坐标系",
    "feature": "要素",
    "properties": "属性",
    "code": "网格编码",
    "name": "网格名称",
    "tier": "网格层级",
    "kind": "网格类型",
    "households": "户数",
    "population": "人口",
    "village_code": "所属村/社区",
    "village": "所属村/社区",
    "parent": "上级网格",
    "geometry": "边界",
}


@dataclass(frozen=True)
class FeatureError:
    index: int  # position of the feature in the file, from 1; 0 = the file as a whole
    code: str
    field: str
    message: str

    @property
    def field_label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


@dataclass(frozen=True)
class FeatureWarning:
    index: int  # 0 = not one feature (a village's gap)
    code: str
    message: str


@dataclass
class ImportReport:
    features: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[FeatureError] = field(default_factory=list)
    warnings: list[FeatureWarning] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, index: int, code: str, field_name: str, message: str) -> None:
        self.errors.append(FeatureError(index, code, field_name, message))

    def warn(self, index: int, code: str, message: str) -> None:
        self.warnings.append(FeatureWarning(index, code, message))


@dataclass
class GridDraft:
    """One feature, checked: what the grid row will hold after the import."""

    index: int
    code: str
    name: str
    tier: str
    kind: str
    households: int | None
    population: int | None
    village: AdminUnit
    geom: BaseGeometry
    existing: Grid | None = None

    @property
    def parent_code(self) -> str | None:
        return self.code[:15] if self.tier == GridTier.MICRO else None


def square_metres(area_deg2: float, lat: float) -> float:
    """Square degrees to square metres near latitude ``lat`` (good enough for messages)."""
    return area_deg2 * 111_320.0 * math.cos(math.radians(lat)) * 110_574.0


def _area_text(geom: BaseGeometry) -> str:
    m2 = square_metres(geom.area, geom.centroid.y if not geom.is_empty else 0.0)
    if m2 >= 100_000:
        return f"{m2 / 1_000_000:.2f} 平方公里"
    return f"{m2:,.0f} 平方米"


# --- reading ---------------------------------------------------------------------------------------


def _load(data: bytes | str | dict, report: ImportReport) -> list[Any] | None:
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            report.error(0, "", "file", "文件编码应为 UTF-8")
            return None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            report.error(
                0, "", "file", f"文件不是有效的 GeoJSON：第{exc.lineno}行第{exc.colno}列 JSON 格式错误"
            )
            return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        report.error(0, "", "file", "文件应为 GeoJSON 要素集合（type 为 FeatureCollection）")
        return None
    crs = data.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
        if name and name not in WGS84_NAMES:
            report.error(0, "", "crs", f"坐标系应为 WGS84 经纬度（EPSG:4326），文件声明的是 {name}")
            return None
    features = data.get("features")
    if not isinstance(features, list) or not features:
        report.error(0, "", "file", "文件中没有任何要素（features 为空）")
        return None
    if len(features) > MAX_FEATURES:
        report.error(
            0, "", "file", f"单个文件最多 {MAX_FEATURES} 个网格，本文件有 {len(features)} 个，请分村/镇导入"
        )
        return None
    return features


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _ring_name(polygon_no: int, ring_no: int, multi: bool) -> str:
    where = f"第{polygon_no}个面的" if multi else ""
    return f"{where}外边界" if ring_no == 0 else f"{where}第{ring_no}个内环"


def check_geometry(raw: Any) -> tuple[BaseGeometry | None, str | None]:
    """The feature's polygon, or a Chinese reason why it cannot be a grid boundary."""
    if not isinstance(raw, dict):
        return None, "缺少几何（geometry）"
    gtype = raw.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        return None, f"几何类型应为 Polygon 或 MultiPolygon，当前为 {gtype or '空'}"
    coords = raw.get("coordinates")
    multi = gtype == "MultiPolygon"
    polygons = coords if multi else [coords]
    if not isinstance(polygons, list | tuple) or not polygons:
        return None, "几何坐标（coordinates）为空或格式错误"
    for p_no, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list | tuple) or not rings:
            return None, "几何坐标（coordinates）为空或格式错误"
        for r_no, ring in enumerate(rings):
            name = _ring_name(p_no, r_no, multi)
            if not isinstance(ring, list | tuple) or not all(
                isinstance(pt, list | tuple) and len(pt) >= 2 for pt in ring
            ):
                return None, f"{name}的坐标格式错误（应为 [经度, 纬度] 的列表）"
            for pt in ring:
                if not (_is_number(pt[0]) and _is_number(pt[1])):
                    return None, f"{name}含有非数字坐标 {list(pt[:2])}"
                if not (-180 <= pt[0] <= 180 and -90 <= pt[1] <= 90):
                    return (
                        None,
                        f"坐标 ({pt[0]}, {pt[1]}) 超出 WGS84 经纬度范围（经度 -180~180，纬度 -90~90）",
                    )
            if len(ring) < 4:
                return None, f"{name}至少需要4个坐标点（首尾相同），当前只有{len(ring)}个"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return None, f"{name}未闭合：首点 {list(ring[0][:2])} 与末点 {list(ring[-1][:2])} 不同"
    try:
        geom = shapely.force_2d(shape({"type": gtype, "coordinates": coords}))
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return None, "几何坐标无法解析"
    if geom.is_empty:
        return None, "边界为空"
    if not geom.is_valid:
        return None, _validity_text(shapely.is_valid_reason(geom))
    if geom.area == 0:
        return None, "边界面积为零"
    return geom, None


def _validity_text(reason: str) -> str:
    """'Self-intersection[105.8 30.1]' → '边界自相交（位置：经度 105.8，纬度 30.1）'."""
    head, _, rest = reason.partition("[")
    text = next((zh for en, zh in VALIDITY_REASONS.items() if head.startswith(en)), f"边界无效（{head}）")
    parts = rest.rstrip("]").split()
    if len(parts) >= 2:
        try:
            text += f"（位置：经度 {float(parts[0]):.6f}，纬度 {float(parts[1]):.6f}）"
        except ValueError:
            pass
    return text


def _count(value: Any, label: str) -> tuple[int | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()), None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value), None
    return None, f"{label}应为非负整数"


def _code_of(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(value or "").strip()


# --- planning --------------------------------------------------------------------------------------


class _Villages:
    """Village rows and their boundaries, read once per code."""

    def __init__(self) -> None:
        self._units: dict[str, AdminUnit | None] = {}
        self._shapes: dict[int, BaseGeometry | None] = {}

    def get(self, code: str) -> AdminUnit | None:
        if code not in self._units:
            self._units[code] = AdminUnit.objects.filter(code=code, level=UnitLevel.VILLAGE).first()
        return self._units[code]

    def shape(self, village: AdminUnit) -> BaseGeometry | None:
        if village.pk not in self._shapes:
            geom = wkt.loads(village.boundary) if village.boundary else None
            self._shapes[village.pk] = (
                geom if geom is not None and geom.is_valid and not geom.is_empty else None
            )
        return self._shapes[village.pk]


def plan_import(
    data: bytes | str | dict, *, village: AdminUnit | None = None
) -> tuple[list[GridDraft], ImportReport]:
    """Check every feature; the drafts are complete only when the report has no error."""
    report = ImportReport()
    features = _load(data, report)
    if features is None:
        return [], report
    report.features = len(features)
    villages = _Villages()
    codes = [
        _code_of((f.get("properties") or {}).get("code")) if isinstance(f, dict) else "" for f in features
    ]
    existing = {g.code: g for g in Grid.objects.filter(code__in=[c for c in codes if c])}
    first_at: dict[str, int] = {}
    drafts: list[GridDraft] = []

    for index, feature in enumerate(features, start=1):
        code = codes[index - 1]
        before = len(report.errors)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.error(index, code, "feature", "应为 GeoJSON 要素（type 为 Feature）")
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            report.error(index, code, "properties", "缺少属性（properties），至少需要 code 和 name")
            continue
        if not code:
            report.error(index, code, "code", "缺少网格编码（code）")
        elif code in first_at:
            report.error(index, code, "code", f"网格编码与第{first_at[code]}个要素重复")
        else:
            first_at[code] = index
        name = str(props.get("name") or "").strip()
        if not name:
            report.error(index, code, "name", "缺少网格名称（name）")
        elif len(name) > 64:
            report.error(index, code, "name", "网格名称不能超过64个字")

        old = existing.get(code)
        raw_tier = str(props.get("tier") or "").strip()
        tier = TIER_ALIASES.get(raw_tier) if raw_tier else None
        if raw_tier and tier is None:
            report.error(index, code, "tier", f"网格层级“{raw_tier}”无效，应为 总网格、一般网格 或 微网格")
        if tier is None:
            tier = old.tier if old and len(code) == 15 and old.tier != GridTier.MICRO else None
            tier = tier or (GridTier.MICRO if len(code) == 17 else GridTier.GENERAL)
        raw_kind = str(props.get("kind") or "").strip()
        kind = KIND_ALIASES.get(raw_kind) if raw_kind else None
        if raw_kind and kind is None:
            report.error(
                index, code, "kind", f"网格类型“{raw_kind}”无效，应为 城市社区网格、农村网格 或 专属网格"
            )
        households, message = _count(props.get("households"), "户数")
        if message:
            report.error(index, code, "households", message)
        population, message = _count(props.get("population"), "人口")
        if message:
            report.error(index, code, "population", message)

        unit = _village_of(index, code, props, village, villages, report)
        geom, message = check_geometry(feature.get("geometry"))
        if message:
            report.error(index, code, "geometry", message)
        if len(report.errors) > before or unit is None or geom is None:
            continue
        if kind is None:
            kind = old.kind if old else (GridKind.RURAL if unit.name.endswith("村") else GridKind.URBAN)
        drafts.append(GridDraft(index, code, name, tier, kind, households, population, unit, geom, old))

    _check_placement(drafts, report, villages)
    if report.errors:
        report.errors.sort(key=lambda e: e.index)  # stable: a feature's errors keep their order
        return drafts, report
    _warn_overlaps(drafts, report)
    _warn_gaps(drafts, report, villages)
    for draft in drafts:
        if draft.existing is None:
            report.created += 1
        elif changed_fields(draft):
            report.updated += 1
        else:
            report.unchanged += 1
    return drafts, report


def _village_of(
    index: int, code: str, props: dict, only: AdminUnit | None, villages: _Villages, report: ImportReport
) -> AdminUnit | None:
    if len(code) not in (15, 17) or not code.isdigit():
        report.error(
            index, code, "code", "网格编码应为15位数字（村/社区12位区划代码 + 3位序号），微网格为17位"
        )
        return None
    prefix = code[:12]
    given = _code_of(props.get("village_code"))
    if given and given != prefix:
        report.error(index, code, "village_code", f"网格编码前12位 {prefix} 与所属村/社区代码 {given} 不一致")
        return None
    if only is not None and prefix != only.code:
        report.error(index, code, "code", f"本次只导入{only.name}的网格，编码前12位应为 {only.code}")
        return None
    unit = villages.get(prefix)
    if unit is None:
        report.error(
            index, code, "village_code", f"所属村/社区（区划代码 {prefix}）不存在，请先建立该村/社区"
        )
    return unit


def _check_placement(drafts: list[GridDraft], report: ImportReport, villages: _Villages) -> None:
    """Tier and code against the parent, the grid inside its village, the micro-grid inside its grid."""
    in_file = {d.code: d for d in drafts}
    parent_codes = {d.parent_code for d in drafts if d.parent_code and d.parent_code not in in_file}
    saved = {g.code: g for g in Grid.objects.filter(code__in=parent_codes)}
    children: dict[int, list[tuple[str, str]]] = defaultdict(list)
    redrawn = [d.existing.pk for d in drafts if d.existing is not None and d.tier != GridTier.MICRO]
    rows = Grid.objects.filter(parent_id__in=redrawn, active=True).exclude(boundary="")
    for parent_id, code, boundary in rows.values_list("parent_id", "code", "boundary"):
        if code not in in_file:
            children[parent_id].append((code, boundary))
    for d in drafts:
        parent: ParentRef | None = None
        parent_geom: BaseGeometry | None = None
        if d.parent_code:
            if d.parent_code in in_file:
                p = in_file[d.parent_code]
                parent, parent_geom = ParentRef(p.code, p.tier, p.village.pk), p.geom
            elif d.parent_code in saved:
                g = saved[d.parent_code]
                parent = ParentRef(g.code, g.tier, g.village_id)
                parent_geom = wkt.loads(g.boundary) if g.boundary else None
            else:
                report.error(
                    d.index, d.code, "code", f"上级网格 {d.parent_code} 不存在（须先导入或在同一文件中）"
                )
                continue
        elif d.existing is not None and d.existing.parent_id and d.tier == GridTier.GENERAL:
            total = d.existing.parent
            parent = ParentRef(total.code, total.tier, total.village_id) if total else None
        for field_name, message in placement_errors(
            code=d.code, tier=d.tier, village=d.village, parent=parent
        ).items():
            report.error(d.index, d.code, field_name, message)
        if d.tier == GridTier.MICRO:
            if parent_geom is not None and not _covered(parent_geom, d.geom):
                outside = d.geom.difference(parent_geom)
                report.error(
                    d.index,
                    d.code,
                    "geometry",
                    f"微网格边界超出所属网格 {d.parent_code}（约{_area_text(outside)}在网格之外）",
                )
            continue
        if d.existing is not None:
            for code, boundary in children.get(d.existing.pk, []):
                if not _covered(d.geom, wkt.loads(boundary)):
                    report.error(
                        d.index, d.code, "geometry", f"新边界未完整包含其微网格 {code}，请一并调整微网格边界"
                    )
        area = villages.shape(d.village)
        if area is not None and not _covered(area, d.geom):
            outside = d.geom.difference(area)
            report.error(
                d.index,
                d.code,
                "geometry",
                f"网格边界超出所属村/社区（{d.village.name}），约{_area_text(outside)}在村/社区之外",
            )


def _covered(outer: BaseGeometry, inner: BaseGeometry) -> bool:
    if outer.covers(inner):
        return True
    return bool(outer.buffer(EDGE_TOLERANCE).covers(inner))


def _warn_overlaps(drafts: list[GridDraft], report: ImportReport) -> None:
    """Overlaps between grids of the same level: 一般网格 with 一般网格 (any village), 总网格 with
    总网格, micro-grids with the micro-grids of the same grid (a grid inside its 总网格 nests, it does not
    overlap). Both sides as they will be after the import."""
    file_codes = {d.code for d in drafts}
    groups: dict[str, list[tuple[str, str, int, BaseGeometry]]] = defaultdict(list)
    for d in drafts:
        groups[d.parent_code or d.tier].append((d.code, d.name, d.index, d.geom))
    grid_level = [d for d in drafts if d.tier != GridTier.MICRO]
    parents = {d.parent_code for d in drafts if d.parent_code}
    others = Grid.objects.filter(active=True).exclude(boundary="").exclude(code__in=file_codes)
    if grid_level:
        box = shapely.union_all([d.geom.envelope for d in grid_level]).buffer(0.01).bounds
        near = others.exclude(tier=GridTier.MICRO).values_list("code", "name", "tier", "boundary")
        for code, name, tier, boundary in near.iterator(chunk_size=2000):
            geom = wkt.loads(boundary)
            b = geom.bounds
            if b[0] <= box[2] and b[2] >= box[0] and b[1] <= box[3] and b[3] >= box[1]:
                groups[tier].append((code, name, 0, geom))
    if parents:
        micro = others.filter(tier=GridTier.MICRO, parent__code__in=parents)
        for code, name, boundary in micro.values_list("code", "name", "boundary"):
            groups[code[:15]].append((code, name, 0, wkt.loads(boundary)))
    for members in groups.values():
        if len(members) < 2:
            continue
        tree = shapely.STRtree([m[3] for m in members])
        left, right = tree.query([m[3] for m in members], predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            a, b = members[i], members[j]
            if i == j or a[2] == 0 or (b[2] != 0 and b[2] < a[2]):
                continue  # each pair once, from the feature of the file that comes first
            overlap = a[3].intersection(b[3])
            if overlap.area > AREA_EPSILON:
                report.warn(a[2], a[0], f"与网格 {b[0]}（{b[1]}）重叠约{_area_text(overlap)}")


def _warn_gaps(drafts: list[GridDraft], report: ImportReport, villages: _Villages) -> None:
    """Parts of a village (with a known boundary) that no grid covers after the import."""
    touched = {d.village.pk: d.village for d in drafts if d.tier != GridTier.MICRO}
    file_codes = {d.code for d in drafts}
    for village in touched.values():
        area = villages.shape(village)
        if area is None:
            continue
        shapes = [d.geom for d in drafts if d.village.pk == village.pk and d.tier != GridTier.MICRO]
        rest = (
            Grid.objects.filter(village=village, active=True)
            .exclude(tier=GridTier.MICRO)
            .exclude(code__in=file_codes)
            .exclude(boundary="")
            .values_list("boundary", flat=True)
        )
        shapes += [wkt.loads(b) for b in rest]
        gap = area.difference(shapely.union_all(shapes))
        pieces = [p for p in getattr(gap, "geoms", [gap]) if p.area > AREA_EPSILON]
        gap_area = sum(p.area for p in pieces)
        if pieces and gap_area > max(AREA_EPSILON, area.area * GAP_SHARE):
            report.warn(
                0,
                village.code,
                f"{village.name}内约{_area_text(shapely.union_all(pieces))}（占{100 * gap_area / area.area:.1f}%）"
                f"未划入任何网格，共{len(pieces)}处",
            )


def changed_fields(draft: GridDraft) -> list[str]:
    """The grid columns the draft would change on its existing row (empty: re-importing changes nothing)."""
    old = draft.existing
    if old is None:
        return []
    changed = [
        name
        for name, new in (
            ("name", draft.name),
            ("tier", draft.tier),
            ("kind", draft.kind),
            ("village_id", draft.village.pk),
            ("households", draft.households),
            ("population", draft.population),
        )
        if new is not None and getattr(old, name) != new
    ]
    if not _same_shape(old.boundary, draft.geom):
        changed.append("boundary")
    return changed


def _same_shape(stored: str, geom: BaseGeometry) -> bool:
    if stored == geom.wkt:
        return True
    if not stored:
        return False
    try:
        old = wkt.loads(stored)
    except shapely.errors.GEOSException:
        return False
    return bool(shapely.equals_exact(shapely.normalize(old), shapely.normalize(geom), tolerance=1e-12))
