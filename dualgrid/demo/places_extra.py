"""Demo data for places (issue #3): micro-grids in the urban core and the online grids (chat groups).

Called by ``dualgrid demo`` after the district is loaded: ``places_extra.load(rng, stdout)``.

Tiers. The village/community itself is the 总网格 level (明湖社区 in 004: "1个社区总网格、16个一般
网格和79个微网格"): its boundary is the village's, its code the village's, its population the sum of
its grids. Repeating it as a grid row would count every resident twice in each sum and lay a polygon
over all of its grids on the map and in point location, so the demo keeps every loaded grid as
一般网格 and adds 微网格 below some of them. A register that lists a 总网格 row of its own can still
import it (tier 总网格, code ending in 000).

Micro-grids. A few 城市社区网格 of the two 街道 are cut into 2–4 micro-grids (Voronoi pieces of the
grid, numbered north→south, west→east; code = grid code + 2 digits; households and population split
by area).

Online grids. About 95 % of the grids get WeChat groups (some WeCom or QQ); a WeChat group holds at
most 500, so a big urban grid has several. Their members add up to 40–90 % of the grid's population.
A handful of groups are registered without a grid, and the rest of the grids have none, so the
coverage page (/places/coverage/) shows both findings.
"""

from __future__ import annotations

import math
import random
from typing import Any

import shapely
from django.db import transaction
from shapely import wkt
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from dualgrid.demo import texts
from dualgrid.places.models import ChatGroup, Grid, GridKind, GridTier, Platform
from dualgrid.places.services import chat_group_upsert, grid_save

MICRO_PARENTS = 12
GROUP_SHARE = 0.95
GROUP_LIMIT = {Platform.WECHAT: 500, Platform.WECOM: 2000, Platform.QQ: 2000}
PLATFORMS = (Platform.WECHAT, Platform.WECOM, Platform.QQ)
PLATFORM_WEIGHTS = (0.82, 0.13, 0.05)
GROUP_NAMES = ("{grid}居民群", "{grid}邻里守望群", "{grid}便民服务群", "{village}{seq}网格议事群")
UNPLACED_GROUPS = (
    ("潼南好物团购群", Platform.WECHAT),
    ("桂林街道志愿者服务群", Platform.WECHAT),
    ("滨江花园业主群（待核实）", Platform.WECHAT),
    ("双江镇老年协会群", Platform.QQ),
    ("梓潼街道商户联络群", Platform.WECOM),
    ("柠檬种植技术交流群", Platform.QQ),
)


def load(rng: random.Random, stdout: Any) -> None:
    if Grid.objects.filter(tier=GridTier.MICRO).exists() or ChatGroup.objects.exists():
        stdout.write("微网格和网格群已存在，跳过。")
        return
    with transaction.atomic():
        micro = _micro_grids(rng)
        groups, covered = _chat_groups(rng)
        unplaced = _unplaced_groups(rng)
    total = Grid.objects.exclude(tier=GridTier.MICRO).count()
    stdout.write(
        f"已建立 {micro} 个微网格；{groups} 个网格群覆盖 {covered}/{total} 个网格，另有 {unplaced} 个群未关联网格。"
    )


def reset() -> None:
    """Remove what ``load`` made (``demo --reset``): groups, then micro-grids, which protect their grid."""
    ChatGroup.objects.all().delete()
    Grid.objects.filter(tier=GridTier.MICRO).delete()


# --- micro-grids -----------------------------------------------------------------------------------


def _micro_grids(rng: random.Random) -> int:
    urban = list(
        Grid.objects.filter(kind=GridKind.URBAN, tier=GridTier.GENERAL, town__name__endswith="街道")
        .select_related("village")
        .order_by("code")
    )
    created = 0
    for parent in rng.sample(urban, min(MICRO_PARENTS, len(urban))):
        pieces = _split(wkt.loads(parent.boundary), rng.randint(2, 4), rng)
        households = _shares(parent.households, [p.area for p in pieces])
        population = _shares(parent.population, [p.area for p in pieces])
        for seq, piece in enumerate(pieces, start=1):
            grid_save(
                actor=None,
                grid=Grid(
                    code=f"{parent.code}{seq:02d}",
                    name=f"{parent.name}第{seq}微网格",
                    tier=GridTier.MICRO,
                    kind=parent.kind,
                    parent=parent,
                    village=parent.village,
                    boundary=piece.wkt,
                    households=households[seq - 1],
                    population=population[seq - 1],
                ),
            )
            created += 1
    return created


def _split(polygon: BaseGeometry, parts: int, rng: random.Random) -> list[Polygon]:
    """``parts`` connected pieces of the polygon, none smaller than 15 % of it, in reading order."""
    x0, y0, x1, y1 = polygon.bounds
    for _ in range(30):
        seeds: list[shapely.Point] = []
        while len(seeds) < parts:
            point = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if polygon.contains(point):
                seeds.append(point)
        cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=polygon.envelope).geoms
        pieces = [cell.intersection(polygon) for cell in cells]
        if all(isinstance(p, Polygon) and p.is_valid and p.area > 0.15 * polygon.area for p in pieces):
            return sorted(pieces, key=lambda p: (-round(p.centroid.y, 3), p.centroid.x))
    return [polygon]  # an awkward shape: left whole


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up."""
    raw = [total * w / sum(weights) for w in weights]
    out = [math.floor(v) for v in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


# --- chat groups -----------------------------------------------------------------------------------


def _external_id(platform: str, rng: random.Random) -> str:
    if platform == Platform.WECHAT:
        return f"{rng.randrange(10**10, 10**11)}@chatroom"
    if platform == Platform.WECOM:
        return "wr" + "".join(
            rng.choice("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(22)
        )
    return str(rng.randrange(10**8, 10**10))


def _chat_groups(rng: random.Random) -> tuple[int, int]:
    grids = list(Grid.objects.exclude(tier=GridTier.MICRO).select_related("village").order_by("code"))
    created = covered = 0
    for grid in grids:
        if rng.random() > GROUP_SHARE:
            continue
        covered += 1
        platform = rng.choices(PLATFORMS, weights=PLATFORM_WEIGHTS)[0]
        reached = round(grid.population * rng.uniform(0.40, 0.90))
        count = max(1, math.ceil(reached / (GROUP_LIMIT[platform] * 0.96)))
        owner = texts.random_name(rng)
        phone = texts.random_phone(rng)
        for n, members in enumerate(_shares(reached, [rng.uniform(0.8, 1.2) for _ in range(count)]), start=1):
            name = rng.choice(GROUP_NAMES).format(
                grid=grid.name, village=grid.village.name, seq=grid.code[-2:].lstrip("0")
            )
            chat_group_upsert(
                actor=None,
                platform=platform,
                external_id=_external_id(platform, rng),
                name=name if count == 1 else f"{name}（{n}）",
                grid=grid,
                member_count=members,
                owner_name=owner,
                owner_phone=phone,
            )
            created += 1
    return created, covered


def _unplaced_groups(rng: random.Random) -> int:
    for name, platform in UNPLACED_GROUPS:
        chat_group_upsert(
            actor=None,
            platform=platform,
            external_id=_external_id(platform, rng),
            name=name,
            grid=None,
            member_count=rng.randint(40, 480),
            owner_name=texts.random_name(rng),
            owner_phone=texts.random_phone(rng),
        )
    return len(UNPLACED_GROUPS)
