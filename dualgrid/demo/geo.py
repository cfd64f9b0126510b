"""Synthetic administrative geography for the demo district (modelled on 重庆市潼南区).

Pure Python (numpy + shapely), no Django.  ``build_district(seed)`` returns a frozen
hierarchy district -> towns (镇街) -> villages (村/社区) -> grids (网格) whose polygons form
an exact coverage at every level: siblings never overlap, and their union is the parent.

How the geometry is made
------------------------
1. An irregular district outline is drawn around the real centre of 潼南 (lon 105.84,
   lat 30.19, about 0.5 deg x 0.4 deg).
2. A fine Voronoi tessellation ("cells") is built from random points whose density is
   high in the county seat and around the town seats.  All later polygons are unions of
   these cells, so neighbours share exactly the same vertices.
3. Cells are assigned to towns with a noisy additively weighted nearest-seat rule, to
   villages and grids with weighted k-means (Lloyd relaxation over the cells); stray
   pieces are handed to the neighbour they share the longest border with, so every unit
   is a single connected polygon.
4. The grid coverage is smoothed with ``shapely.coverage_simplify`` (which keeps shared
   edges identical); villages, towns and the district are exact coverage unions of grids.

All work is done in a local kilometre plane and transformed to WGS84 lon/lat at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

__all__ = [
    "COUNTY_CODE",
    "DISTRICT_NAME",
    "District",
    "GridPlan",
    "Town",
    "Village",
    "build_district",
]

COUNTY_CODE = "500152"
DISTRICT_NAME = "潼南区"
CENTER_LON = 105.84
CENTER_LAT = 30.19
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(CENTER_LAT))
HALF_WIDTH_KM = 0.25 * KM_PER_DEG_LON  # ~24 km
HALF_HEIGHT_KM = 0.20 * KM_PER_DEG_LAT  # ~22 km

GRID_KIND_URBAN = "城市社区网格"
GRID_KIND_RURAL = "农村网格"
GRID_KIND_DEDICATED = "专属网格"


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class GridPlan:
    code15: str
    name: str
    kind: str  # '城市社区网格' | '农村网格' | '专属网格'
    polygon: Polygon
    households: int
    population: int


@dataclass(frozen=True)
class Village:
    name: str
    code12: str
    kind: str  # '社区' | '村'
    polygon: Polygon
    grids: list[GridPlan]


@dataclass(frozen=True)
class Town:
    name: str
    code12: str
    kind: str  # '街道' | '镇'
    polygon: Polygon
    villages: list[Village]

    def iter_grids(self) -> Iterator[GridPlan]:
        for village in self.villages:
            yield from village.grids


@dataclass(frozen=True)
class District:
    name: str
    code12: str
    polygon: Polygon
    towns: list[Town]

    def iter_villages(self) -> Iterator[Village]:
        for town in self.towns:
            yield from town.villages

    def iter_grids(self) -> Iterator[GridPlan]:
        for town in self.towns:
            yield from town.iter_grids()


# --------------------------------------------------------------------------- static data


@dataclass(frozen=True)
class _TownSpec:
    name: str
    seq: str  # 3-digit town part of the code: 街道 0xx, 镇 1xx
    kind: str
    seat: tuple[float, float]  # km east/north of the district centre
    communities: tuple[str, ...]  # 社区, most central first
    villages: tuple[str, ...]  # 村


_TOWNS: tuple[_TownSpec, ...] = (
    _TownSpec(
        "桂林街道",
        "001",
        "街道",
        (-1.8, 1.3),
        ("大佛社区", "金佛社区", "凉风垭社区", "杨家坝社区", "兴隆社区", "北街社区", "三块石社区"),
        ("千佛村", "塘坝湾村"),
    ),
    _TownSpec(
        "梓潼街道",
        "002",
        "街道",
        (2.0, -1.1),
        ("梓潼社区", "滨江社区", "东升社区", "红旗社区", "南环社区", "文化社区"),
        ("玉溪村", "明月村"),
    ),
    _TownSpec(
        "双江镇",
        "101",
        "镇",
        (7.5, 13.0),
        ("双江社区",),
        ("金龙村", "水口村", "仁寿村", "五一村", "长滩村", "黄桷村"),
    ),
    _TownSpec(
        "群力镇",
        "102",
        "镇",
        (-13.5, 7.5),
        ("群力社区",),
        ("白兔村", "东风村", "文家村", "青石村", "金竹村", "鹰嘴村"),
    ),
    _TownSpec(
        "柏梓镇",
        "103",
        "镇",
        (-11.5, -11.0),
        ("柏梓社区",),
        ("中渡村", "石门村", "鱼溪村", "兴龙村", "七星村"),
    ),
    _TownSpec(
        "米心镇",
        "104",
        "镇",
        (12.5, -9.0),
        ("米心社区",),
        ("龙滩村", "大桥村", "三合村", "油房村", "马鞍村"),
    ),
)

# Grid counts per village (inclusive ranges).
_GRIDS_URBAN_COMMUNITY = (11, 17)  # 社区 in a 街道
_GRIDS_SEAT_COMMUNITY = (7, 10)  # 社区 at a town seat
_GRIDS_SUBURBAN_VILLAGE = (5, 7)  # 村 in a 街道
_GRIDS_RURAL_VILLAGE = (6, 9)  # 村 in a 镇

# Fine-cell sampling (points per km^2 of background, plus gaussian clusters).
_RURAL_CELL_KM2 = 0.45
_URBAN_POINTS = 3200
_URBAN_SIGMA_KM = 2.0
_SEAT_POINTS = 180
_SEAT_SIGMA_KM = 0.9
_TOWN_SEAT_BONUS_KM = 3.2  # additive weight of 镇 seats against 街道 seats
_SEAT_COMMUNITY_RADIUS_KM = 1.9
_SIMPLIFY_TOL_KM = 0.05
_MAX_ATTEMPTS = 25
_LOCAL_ATTEMPTS = 10


# --------------------------------------------------------------------------- public API


def build_district(seed: int = 0) -> District:
    """Build the demo district.  Deterministic for a given ``seed``; takes about 0.5 s."""
    last_error: Exception | None = None
    for attempt in range(_MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, attempt])
        try:
            return _build(rng)
        except _RetryError as exc:  # extremely rare degenerate layouts
            last_error = exc
    raise RuntimeError(f"could not build a valid district for seed={seed}: {last_error}")


# --------------------------------------------------------------------------- internals


class _RetryError(Exception):
    pass


class _Cells:
    """Fine Voronoi tessellation with adjacency (shared edge lengths)."""

    def __init__(self, points: np.ndarray, envelope: Polygon) -> None:
        diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=envelope, ordered=True)
        polys = np.asarray(shapely.get_parts(diagram))
        if len(polys) != len(points):
            raise _RetryError("voronoi cell count mismatch")
        self.polys = polys
        self.n = len(polys)
        self.area = shapely.area(polys)
        self.centroid = shapely.get_coordinates(shapely.centroid(polys))

        coords, owner = shapely.get_coordinates(polys, return_index=True)
        same = owner[1:] == owner[:-1]
        _, vid = np.unique(coords, axis=0, return_inverse=True)
        vid = vid.ravel().astype(np.int64)
        va, vb = vid[:-1][same], vid[1:][same]
        seg_owner = owner[:-1][same]
        seg_len = np.hypot(*(coords[1:][same] - coords[:-1][same]).T)
        nv = int(vid.max()) + 1
        key = np.minimum(va, vb) * nv + np.maximum(va, vb)
        order = np.argsort(key, kind="stable")
        key, seg_owner, seg_len = key[order], seg_owner[order], seg_len[order]
        pair = np.flatnonzero(key[1:] == key[:-1])
        a, b, length = seg_owner[pair], seg_owner[pair + 1], seg_len[pair]
        # Cells with an unmatched edge lie on the envelope frame.
        matched = np.zeros(len(key), dtype=bool)
        matched[pair] = True
        matched[pair + 1] = True
        self.on_frame = np.zeros(self.n, dtype=bool)
        self.on_frame[seg_owner[~matched]] = True

        self.nbrs: list[list[int]] = [[] for _ in range(self.n)]
        self.nbr_len: list[list[float]] = [[] for _ in range(self.n)]
        for i, j, le in zip(a.tolist(), b.tolist(), length.tolist(), strict=True):
            if i == j:
                continue
            self.nbrs[i].append(j)
            self.nbr_len[i].append(le)
            self.nbrs[j].append(i)
            self.nbr_len[j].append(le)

    def components(self, members: np.ndarray, mask: np.ndarray) -> list[list[int]]:
        """Connected components of ``members`` (cell ids) where ``mask`` is the membership array."""
        seen: set[int] = set()
        comps: list[list[int]] = []
        for start in members.tolist():
            if start in seen:
                continue
            seen.add(start)
            comp = [start]
            stack = [start]
            while stack:
                cur = stack.pop()
                for nb in self.nbrs[cur]:
                    if mask[nb] and nb not in seen:
                        seen.add(nb)
                        comp.append(nb)
                        stack.append(nb)
            comps.append(comp)
        return comps


def _smooth_noise(rng: np.random.Generator, amplitude: float, wavelength: float, terms: int = 4):
    """A smooth random scalar field f(x, y) made of a few plane waves."""
    angles = rng.uniform(0, 2 * math.pi, terms)
    waves = 2 * math.pi / (wavelength * rng.uniform(0.7, 1.4, terms))
    phases = rng.uniform(0, 2 * math.pi, terms)
    amps = amplitude * rng.uniform(0.5, 1.0, terms) / math.sqrt(terms)
    kx, ky = waves * np.cos(angles), waves * np.sin(angles)

    def field(xy: np.ndarray) -> np.ndarray:
        arg = xy[:, :1] * kx + xy[:, 1:2] * ky + phases
        return (np.sin(arg) * amps).sum(axis=1)

    return field


def _outline(rng: np.random.Generator) -> Polygon:
    n = 96
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 9):
        r += rng.uniform(0.03, 0.11) / k**0.6 * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    x = HALF_WIDTH_KM * r * np.cos(theta)
    y = HALF_HEIGHT_KM * r * np.sin(theta)
    return Polygon(np.column_stack([x, y]))


def _sample_points(rng: np.random.Generator, outline: Polygon) -> tuple[np.ndarray, Polygon]:
    minx, miny, maxx, maxy = outline.bounds
    pad = 3.0
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    n_bg = int((maxx - minx) * (maxy - miny) / _RURAL_CELL_KM2)
    parts = [np.column_stack([rng.uniform(minx, maxx, n_bg), rng.uniform(miny, maxy, n_bg)])]
    parts.append(rng.normal(0.0, _URBAN_SIGMA_KM, (_URBAN_POINTS, 2)))
    for spec in _TOWNS:
        if spec.kind == "镇":
            parts.append(np.asarray(spec.seat) + rng.normal(0.0, _SEAT_SIGMA_KM, (_SEAT_POINTS, 2)))
    pts = np.vstack(parts)
    inside = (pts[:, 0] > minx) & (pts[:, 0] < maxx) & (pts[:, 1] > miny) & (pts[:, 1] < maxy)
    pts = pts[inside]
    # Drop near-duplicates so Voronoi cells are never degenerate.
    pts = np.unique(np.round(pts, 4), axis=0)
    return pts, shapely.box(minx, miny, maxx, maxy)


def _select_district(cells: _Cells, outline: Polygon) -> np.ndarray:
    inside = shapely.contains_xy(outline, cells.centroid[:, 0], cells.centroid[:, 1])
    comps = cells.components(np.flatnonzero(inside), inside)
    keep = np.zeros(cells.n, dtype=bool)
    keep[max(comps, key=len)] = True
    # Fill holes: outside cells not reachable from the frame become inside.
    outside = ~keep
    reach = np.zeros(cells.n, dtype=bool)
    stack = np.flatnonzero(outside & cells.on_frame).tolist()
    reach[stack] = True
    while stack:
        cur = stack.pop()
        for nb in cells.nbrs[cur]:
            if outside[nb] and not reach[nb]:
                reach[nb] = True
                stack.append(nb)
    keep |= outside & ~reach
    if keep[cells.on_frame].any():
        raise _RetryError("district touches the frame")
    return np.flatnonzero(keep)


def _make_connected(cells: _Cells, members: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Reassign stray pieces so every label forms one edge-connected set of cells."""
    owner = np.full(cells.n, -1, dtype=np.int64)
    owner[members] = labels
    for _ in range(50):
        changed = False
        for lab in range(k):
            lab_cells = np.flatnonzero(owner == lab)
            if len(lab_cells) == 0:
                raise _RetryError("empty unit")
            comps = cells.components(lab_cells, owner == lab)
            if len(comps) == 1:
                continue
            comps.sort(key=lambda c: cells.area[c].sum(), reverse=True)
            for comp in comps[1:]:
                tally: dict[int, float] = {}
                for c in comp:
                    for nb, le in zip(cells.nbrs[c], cells.nbr_len[c], strict=True):
                        o = int(owner[nb])
                        if o >= 0 and o != lab:
                            tally[o] = tally.get(o, 0.0) + le
                if not tally:
                    raise _RetryError("isolated piece")
                owner[comp] = max(tally, key=lambda o: tally[o])
                changed = True
        if not changed:
            return owner[members]
    raise _RetryError("connectivity did not converge")


def _has_enclave(cells: _Cells, members: np.ndarray, labels: np.ndarray, k: int) -> bool:
    """True if some unit is completely surrounded by a single sibling (it would punch a hole)."""
    owner = np.full(cells.n, -1, dtype=np.int64)
    owner[members] = labels
    for lab in range(k):
        around: set[int] = set()
        for c in np.flatnonzero(owner == lab).tolist():
            for nb in cells.nbrs[c]:
                if owner[nb] != lab:
                    around.add(int(owner[nb]))
        if len(around) == 1 and -1 not in around:
            return True
    return False


def _kmeans(
    rng: np.random.Generator, pts: np.ndarray, weights: np.ndarray, k: int, iters: int = 20
) -> np.ndarray:
    """Weighted Lloyd/k-means over cell centroids with k-means++ seeding."""
    n = len(pts)
    if n < k:
        raise _RetryError("not enough cells")
    p = weights / weights.sum()
    first = int(rng.choice(n, p=p))
    centers = [pts[first]]
    d2 = ((pts - pts[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        prob = weights * d2
        nxt = int(rng.choice(n, p=prob / prob.sum()))
        centers.append(pts[nxt])
        d2 = np.minimum(d2, ((pts - pts[nxt]) ** 2).sum(axis=1))
    c = np.array(centers)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        dist = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        labels = dist.argmin(axis=1)
        wsum = np.bincount(labels, weights=weights, minlength=k)
        if (wsum == 0).any():
            raise _RetryError("empty cluster")
        cx = np.bincount(labels, weights=weights * pts[:, 0], minlength=k) / wsum
        cy = np.bincount(labels, weights=weights * pts[:, 1], minlength=k) / wsum
        c = np.column_stack([cx, cy])
    return labels


def _assign_towns(rng: np.random.Generator, cells: _Cells, members: np.ndarray) -> np.ndarray:
    pts = cells.centroid[members]
    scores = []
    for spec in _TOWNS:
        noise = _smooth_noise(rng, amplitude=1.6, wavelength=9.0)
        d = np.hypot(pts[:, 0] - spec.seat[0], pts[:, 1] - spec.seat[1])
        bonus = _TOWN_SEAT_BONUS_KM if spec.kind == "镇" else 0.0
        scores.append(d - bonus + noise(pts))
    labels = _make_connected(cells, members, np.argmin(np.array(scores), axis=0), len(_TOWNS))
    if _has_enclave(cells, members, labels, len(_TOWNS)):
        raise _RetryError("enclave among towns")
    return labels


def _randint(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


@dataclass
class _Unit:
    """Working record of a unit while the hierarchy is built (km plane)."""

    name: str
    code: str
    kind: str
    cells: np.ndarray
    children: list[_Unit]
    households: int = 0
    population: int = 0


def _split_town(rng: np.random.Generator, cells: _Cells, spec: _TownSpec, members: np.ndarray) -> _Unit:
    n_comm, n_vill = len(spec.communities), len(spec.villages)
    k = n_comm + n_vill
    pts = cells.centroid[members]
    in_seat = np.zeros(len(members), dtype=bool)
    if spec.kind == "镇":
        # The seat community is a compact blob around the town seat; villages share the rest.
        noise = _smooth_noise(rng, amplitude=0.5, wavelength=3.0)
        seat_dist = np.hypot(pts[:, 0] - spec.seat[0], pts[:, 1] - spec.seat[1]) + noise(pts)
        in_seat = seat_dist < _SEAT_COMMUNITY_RADIUS_KM
    for _ in range(_LOCAL_ATTEMPTS):
        if spec.kind == "街道":
            # Weight 1 per cell = density weighting: the dense city core gets small communities.
            labels = _kmeans(rng, pts, np.ones(len(members)), k)
        else:
            labels = np.zeros(len(members), dtype=np.int64)
            labels[~in_seat] = 1 + _kmeans(rng, pts[~in_seat], np.ones(int((~in_seat).sum())), k - 1)
        labels = _make_connected(cells, members, labels, k)
        if not _has_enclave(cells, members, labels, k):
            break
    else:
        raise _RetryError(f"enclave in {spec.name}")
    centre = np.array((0.0, 0.0)) if spec.kind == "街道" else np.asarray(spec.seat)
    cents = np.array([cells.centroid[members[labels == j]].mean(axis=0) for j in range(k)])
    if spec.kind == "街道":
        # Densest clusters are the urban communities; order them centre-out.
        dens = np.array([(labels == j).sum() / cells.area[members[labels == j]].sum() for j in range(k)])
        comm_idx = sorted(
            np.argsort(-dens)[:n_comm].tolist(), key=lambda j: float(np.hypot(*(cents[j] - centre)))
        )
    else:
        comm_idx = [0]
    vill_idx = [j for j in range(k) if j not in comm_idx]
    # Villages are named clockwise from north around the centre.
    vill_idx.sort(key=lambda j: math.atan2(cents[j][0] - centre[0], cents[j][1] - centre[1]) % (2 * math.pi))

    town_code = COUNTY_CODE + spec.seq + "000"
    children: list[_Unit] = []
    for i, j in enumerate(comm_idx):
        code = COUNTY_CODE + spec.seq + f"{i + 1:03d}"
        children.append(_Unit(spec.communities[i], code, "社区", members[labels == j], []))
    for i, j in enumerate(vill_idx):
        code = COUNTY_CODE + spec.seq + f"{201 + i:03d}"
        children.append(_Unit(spec.villages[i], code, "村", members[labels == j], []))
    for child in children:
        _split_village(rng, cells, spec, child)
    return _Unit(spec.name, town_code, spec.kind, members, children)


def _split_village(rng: np.random.Generator, cells: _Cells, spec: _TownSpec, village: _Unit) -> None:
    if village.kind == "社区":
        bounds = _GRIDS_URBAN_COMMUNITY if spec.kind == "街道" else _GRIDS_SEAT_COMMUNITY
    else:
        bounds = _GRIDS_SUBURBAN_VILLAGE if spec.kind == "街道" else _GRIDS_RURAL_VILLAGE
    members = village.cells
    k = min(_randint(rng, bounds), max(1, len(members) // 4))
    for _ in range(_LOCAL_ATTEMPTS):
        labels = _kmeans(rng, cells.centroid[members], np.sqrt(cells.area[members]), k)
        labels = _make_connected(cells, members, labels, k)
        if not _has_enclave(cells, members, labels, k):
            break
    else:
        raise _RetryError(f"enclave in {village.name}")
    dedicated = -1
    if village.kind == "社区" and rng.random() < 0.6:
        dedicated = int(rng.integers(0, k))
    for j in range(k):
        if j == dedicated:
            kind, households = GRID_KIND_DEDICATED, int(rng.integers(40, 201))
        elif village.kind == "社区":
            kind, households = GRID_KIND_URBAN, int(rng.integers(300, 601))
        else:
            kind, households = GRID_KIND_RURAL, int(rng.integers(150, 401))
        population = int(round(households * rng.uniform(2.6, 3.0)))
        village.children.append(_Unit("", "", kind, members[labels == j], [], households, population))


def _to_lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    scale = np.array([1.0 / KM_PER_DEG_LON, 1.0 / KM_PER_DEG_LAT])
    offset = np.array([CENTER_LON, CENTER_LAT])
    return shapely.transform(geom, lambda xy: xy * scale + offset)


def _as_polygon(geom: shapely.Geometry, what: str) -> Polygon:
    if not isinstance(geom, Polygon) or geom.is_empty or not geom.is_valid or geom.interiors:
        raise _RetryError(f"{what} is not a simple valid polygon")
    return geom


def _number_grids(polys: list[Polygon], village_area: float) -> list[int]:
    """Order west->east within rows, rows north->south."""
    cents = np.array([p.centroid.coords[0] for p in polys])
    row_h = math.sqrt(village_area / len(polys))
    top = cents[:, 1].max()
    rows = np.floor((top - cents[:, 1]) / row_h + 0.5)
    return sorted(range(len(polys)), key=lambda i: (rows[i], cents[i, 0]))


def _build(rng: np.random.Generator) -> District:
    outline = _outline(rng)
    points, envelope = _sample_points(rng, outline)
    cells = _Cells(points, envelope)
    district_cells = _select_district(cells, outline)
    town_labels = _assign_towns(rng, cells, district_cells)

    towns = [_split_town(rng, cells, spec, district_cells[town_labels == t]) for t, spec in enumerate(_TOWNS)]

    # Grid polygons in the km plane form an exact coverage; smooth it as a whole.
    grid_units = [g for t in towns for v in t.children for g in v.children]
    raw = [shapely.coverage_union_all(cells.polys[g.cells]) for g in grid_units]
    smooth = shapely.coverage_simplify(np.array(raw, dtype=object), _SIMPLIFY_TOL_KM)
    grid_polys_all = [_to_lonlat(p) for p in smooth]

    out_towns: list[Town] = []
    gi = 0
    for t in towns:
        out_villages: list[Village] = []
        for v in t.children:
            polys = grid_polys_all[gi : gi + len(v.children)]
            gi += len(v.children)
            v_poly = _as_polygon(shapely.coverage_union_all(polys), v.name)
            grids: list[GridPlan] = []
            for seq, i in enumerate(_number_grids(polys, v_poly.area), start=1):
                g = v.children[i]
                grids.append(
                    GridPlan(
                        code15=v.code + f"{seq:03d}",
                        name=f"{v.name}第{seq}网格",
                        kind=g.kind,
                        polygon=_as_polygon(polys[i], f"{v.name} grid"),
                        households=g.households,
                        population=g.population,
                    )
                )
            out_villages.append(Village(v.name, v.code, v.kind, v_poly, grids))
        t_poly = _as_polygon(shapely.coverage_union_all([v.polygon for v in out_villages]), t.name)
        out_towns.append(Town(t.name, t.code, t.kind, t_poly, out_villages))
    d_poly = _as_polygon(shapely.coverage_union_all([t.polygon for t in out_towns]), DISTRICT_NAME)
    return District(DISTRICT_NAME, COUNTY_CODE + "000000", d_poly, out_towns)
