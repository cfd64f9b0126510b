"""The printable grid notice board (公示牌): one PDF page per grid with its name and code, a boundary
sketch, the people serving it now with their work phones, its duty list and a QR code that opens the
resident report page preset to the grid.

A public notice board shows the grid workers' work phones in full (that is its purpose); no
resident's data ever appears on it.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import segno
from django.template.loader import render_to_string
from shapely import affinity, wkt
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from dualgrid.lib.errors import NotFound

from . import selectors
from .models import AdminUnit, Grid, GridTier, UnitLevel

if TYPE_CHECKING:
    from dualgrid.accounts.models import User

PaperSize = Literal["A4", "A3"]
PAPER_SIZES: tuple[PaperSize, ...] = ("A4", "A3")
# Root font size per paper: A3 is A4 scaled by √2, so everything (sized in rem) scales with it.
ROOT_FONT_PT = {"A4": 10.5, "A3": 14.8}
SKETCH_WIDTH, SKETCH_HEIGHT, SKETCH_PAD = 400.0, 300.0, 14.0
HOTLINE = "紧急情况请拨打 110 / 119 / 120"
QR_CAPTION = "扫码反映问题"
VILLAGE_NOT_IN_SCOPE = "村/社区不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class StaffLine:
    role: str
    post: str
    name: str
    phone: str


@dataclass(frozen=True)
class NoticePage:
    grid: Grid
    staff: list[StaffLine]
    duties: list[str]
    sketch: str  # SVG data URI
    qr: str  # SVG data URI
    report_url: str


def paper_size(value: str | None) -> PaperSize:
    """``A3`` if asked for (any case), else ``A4``."""
    return "A3" if (value or "").strip().upper() == "A3" else "A4"


def report_url(base_url: str, grid: Grid) -> str:
    """The resident report page preset to ``grid`` (what its QR code opens)."""
    return f"{base_url.rstrip('/')}/report/?{urlencode({'grid': grid.code})}"


def notice_filename(name: str) -> str:
    return f"网格公示牌-{name}.pdf"


def content_disposition(filename: str, fallback: str) -> str:
    """``inline`` with an ASCII fallback and the real (Chinese) name per RFC 5987."""
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def qr_svg_uri(data: str) -> str:
    return segno.make(data, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#000")


# --- boundary sketch -------------------------------------------------------------------------------


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _path(geom: BaseGeometry) -> str:
    parts = []
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            coords = list(ring.coords)
            if len(coords) < 3:
                continue
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + " Z")
    return " ".join(parts)


def boundary_svg(grid: Grid, neighbours: list[Grid]) -> str:
    """The grid's boundary fitted to the sketch box (aspect kept), neighbours in light grey.

    Longitude/latitude are drawn equirectangular with the longitude scaled by cos(latitude), so a
    grid keeps its real shape at Chongqing's latitude; north is up.
    """
    w, h, pad = SKETCH_WIDTH, SKETCH_HEIGHT, SKETCH_PAD
    head = f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}">'
    frame = f'<rect x="0.5" y="0.5" width="{w - 1:.0f}" height="{h - 1:.0f}" fill="#fff" stroke="#999"/>'
    try:
        shape = wkt.loads(grid.boundary) if grid.boundary else None
    except Exception:  # a broken boundary must not stop the print run
        shape = None
    if shape is None or shape.is_empty:
        text = '<text x="50%" y="50%" text-anchor="middle" font-size="16" fill="#888">暂无边界</text>'
        return _data_uri(head + frame + text + "</svg>")
    lat0 = shape.centroid.y
    kx = math.cos(math.radians(lat0))

    def project(g: BaseGeometry) -> BaseGeometry:
        return affinity.scale(g, xfact=kx, yfact=-1.0, origin=(0, 0))

    target = project(shape)
    minx, miny, maxx, maxy = target.bounds
    dx, dy = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
    scale = min((w - 2 * pad) / dx, (h - 2 * pad) / dy)
    xoff = (w - dx * scale) / 2 - minx * scale
    yoff = (h - dy * scale) / 2 - miny * scale

    def fit(g: BaseGeometry) -> BaseGeometry:
        return affinity.affine_transform(project(g), [scale, 0, 0, scale, xoff, yoff])

    body = [
        head,
        frame,
        f'<clipPath id="c"><rect x="1" y="1" width="{w - 2:.0f}" height="{h - 2:.0f}"/></clipPath>',
    ]
    body.append('<g clip-path="url(#c)">')
    for other in neighbours:
        if other.pk == grid.pk or not other.boundary:
            continue
        try:
            d = _path(fit(wkt.loads(other.boundary)))
        except Exception:
            continue
        if d:
            body.append(f'<path d="{d}" fill="#f2f2f2" stroke="#bbb" stroke-width="1" fill-rule="evenodd"/>')
    body.append(
        f'<path d="{_path(fit(shape))}" fill="#fde8e8" stroke="#c00" stroke-width="2.5" '
        'stroke-linejoin="round" fill-rule="evenodd"/>'
    )
    body.append("</g>")
    # North arrow, top right.
    ax = w - 22
    body.append(
        f'<path d="M{ax},10 L{ax + 6},26 L{ax},22 L{ax - 6},26 Z" fill="#333"/>'
        f'<text x="{ax}" y="40" text-anchor="middle" font-size="12" fill="#333">{escape("北")}</text>'
    )
    body.append("</svg>")
    return _data_uri("".join(body))


# --- pages -----------------------------------------------------------------------------------------


def _staff_lines(grid: Grid) -> list[StaffLine]:
    # Imported here: people builds on places, not the other way round at import time.
    from dualgrid.people.selectors import current_staff

    return [
        StaffLine(
            role=a.role.name,
            post=a.post_name.name if a.post_name_id and a.post_name else "",
            name=a.staff.name,
            phone=a.staff.phone or "",
        )
        for a in current_staff(grid)
    ]


def notice_page(grid: Grid, base_url: str) -> NoticePage:
    url = report_url(base_url, grid)
    return NoticePage(
        grid=grid,
        staff=_staff_lines(grid),
        duties=[d.name for d in selectors.grid_duties(grid)],
        sketch=boundary_svg(grid, list(selectors.grid_neighbourhood(grid).exclude(tier=GridTier.MICRO))),
        qr=qr_svg_uri(url),
        report_url=url,
    )


def render_notice_html(grids: list[Grid], size: PaperSize, base_url: str) -> str:
    size = paper_size(size)
    pages = [notice_page(g, base_url) for g in grids]
    return render_to_string(
        "places/notice.html",
        {
            "pages": pages,
            "size": size,
            "root_pt": ROOT_FONT_PT[size],
            "hotline": HOTLINE,
            "qr_caption": QR_CAPTION,
        },
    )


def render_notice_pdf(grids: list[Grid], size: PaperSize, base_url: str) -> bytes:
    """One page per grid, on A4 or A3 portrait."""
    from weasyprint import HTML  # heavy import, only when printing

    html = render_notice_html(grids, size, base_url)
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)


# --- scope -----------------------------------------------------------------------------------------


def village_notice_grids(user: User, unit_id: int) -> tuple[AdminUnit, list[Grid]]:
    """A village in the user's scope with its active grids (micro-grids left out), in code order."""
    village = AdminUnit.objects.filter(pk=unit_id, level=UnitLevel.VILLAGE).first()
    if village is None:
        raise NotFound(VILLAGE_NOT_IN_SCOPE, field="id", code="not_found")
    grids = list(
        selectors.grids_for_user(user)
        .filter(selectors.within_unit(village), active=True)
        .exclude(tier=GridTier.MICRO)
        .select_related("village", "town", "county", "parent")
        .order_by("code")
    )
    if not grids:
        raise NotFound(VILLAGE_NOT_IN_SCOPE, field="id", code="not_found")
    return village, grids
