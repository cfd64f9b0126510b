"""Pages over places: grid list and detail, 一格一群 coverage, GeoJSON boundary import.

Each view parses input, calls a selector or service, and renders; everything is scoped by the user's
place in the hierarchy (a grid outside it is a 404).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods
from shapely import wkt
from shapely.geometry import mapping

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import DomainError, Forbidden, NotFound
from dualgrid.lib.privacy import mask_phone

from . import notice, selectors, services
from .forms import GeoJSONUploadForm, grid_filter_form
from .models import AdminUnit, Grid, UnitLevel

PAGE_SIZE = 20
COVERAGE_PAGE_SIZE = 50
DRAFT_SESSION_KEY = "places:geojson-draft"
DRAFT_MAX_AGE = 24 * 3600
LEVELS = {"town": "镇街", "village": "村/社区", "grid": "网格"}

View = Callable[..., HttpResponse]


def _error_page(request: HttpRequest, exc: NotFound | Forbidden) -> HttpResponse:
    template = "404.html" if isinstance(exc, NotFound) else "403.html"
    return render(request, template, {"message": exc.message}, status=exc.status)


def _is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def staff_page(admin_only: bool = False) -> Callable[[View], View]:
    """Login required; NotFound/Forbidden rendered as the 404/403 pages."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: User = request.user  # type: ignore[assignment]
            try:
                if admin_only and not _is_admin(user):
                    raise Forbidden("只有系统管理员可以导入网格边界")
                return view(request, *args, **kwargs)
            except (NotFound, Forbidden) as exc:
                return _error_page(request, exc)

        return login_required(wrapped)

    return decorate


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- grids -----------------------------------------------------------------------------------------


@staff_page()
@require_GET
def grid_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = grid_filter_form(request.GET, user)
    grids = selectors.grid_list(user, **form.selector_kwargs())
    context = {
        "form": form,
        "page": Paginator(grids, PAGE_SIZE).get_page(request.GET.get("page")),
        "base_query": _query_without(request, "page"),
        "is_admin": _is_admin(user),
    }
    return render(request, "places/grid_list.html", context)


@staff_page()
@require_GET
def grid_detail(request: HttpRequest, grid_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    grid = selectors.grid_get_for_user(user, grid_id)
    groups = list(selectors.grid_groups(grid))
    members = sum(g.member_count for g in groups)
    context = {
        "grid": grid,
        "duties": selectors.grid_duties(grid),
        "pending_duties": selectors.grid_pending_duties(grid),
        "own_duties": grid.duties.exists(),
        "groups": [(g, mask_phone(g.owner_phone or "")) for g in groups],
        "members": members,
        "reach": 100.0 * members / grid.population if grid.population else None,
        "children": list(selectors.grid_children(grid)),
    }
    return render(request, "places/grid_detail.html", context)


@staff_page()
@require_GET
def grid_geojson(request: HttpRequest, grid_id: int) -> HttpResponse:
    """The grid with its neighbours, parent and micro-grids, for its map."""
    grid = selectors.grid_get_for_user(request.user, grid_id)  # type: ignore[arg-type]
    shapes = list(selectors.grid_neighbourhood(grid))
    names = {g.pk: g.name for g in shapes}
    has_children = any(g.parent_id == grid.pk for g in shapes)

    def label(g: Grid) -> str:
        """Short map labels (第3网格, 第2微网格); a grid under its micro-grids goes unlabelled."""
        if g.pk == grid.parent_id or (g.pk == grid.pk and has_children):
            return ""
        for prefix in (names.get(g.parent_id or 0, ""), grid.village.name):
            if prefix and g.name.startswith(prefix) and len(g.name) > len(prefix):
                return g.name[len(prefix) :]
        return g.name

    features = [
        {
            "type": "Feature",
            "geometry": mapping(wkt.loads(g.boundary)),
            "properties": {"id": g.pk, "code": g.code, "name": label(g), "village": ""},
        }
        for g in shapes
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features}, json_dumps_params={"ensure_ascii": False}
    )


# --- coverage --------------------------------------------------------------------------------------


@staff_page()
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    towns = selectors.towns_in_scope(user)
    town_id = _int(request.GET.get("town"))
    town = towns.filter(pk=town_id).first() if town_id else None
    level = request.GET.get("level", "village")
    if level not in LEVELS:
        level = "village"
    sort = request.GET.get("sort", "code")
    if sort not in selectors.SORT_KEYS:
        sort = "code"
    descending = request.GET.get("order") == "desc"
    data = selectors.coverage_for_user(user, town_id=town.pk if town else None)
    rows = selectors.sort_rows(getattr(data, f"{level}s"), sort, descending)
    context = {
        "data": data,
        "towns": towns,
        "town": town,
        "level": level,
        "levels": LEVELS,
        "sort": sort,
        "descending": descending,
        "page": Paginator(rows, COVERAGE_PAGE_SIZE).get_page(request.GET.get("page")),
        "base_query": _query_without(request, "page"),
        "sort_query": _query_without(request, "page", "sort", "order"),
        "level_query": _query_without(request, "page", "sort", "order", "level"),
        "grids_without_group": data.grids_without_group,
        "groups_without_grid": [(g, mask_phone(g.owner_phone or "")) for g in data.groups_without_grid],
        "sees_unlinked": selectors.sees_groups_without_grid(user),
        "is_admin": _is_admin(user),
    }
    return render(request, "places/coverage.html", context)


# --- GeoJSON import --------------------------------------------------------------------------------


def _draft_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports" / "geojson"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_draft(content: bytes) -> str:
    """Keep an uploaded file between the preview and the apply step (never under MEDIA: it is not public)."""
    folder = _draft_dir()
    cutoff = time.time() - DRAFT_MAX_AGE
    for old in folder.glob("*.geojson"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (folder / f"{token}.geojson").write_bytes(content)
    return token


def _draft_path(token: str) -> Path | None:
    if not token.isalnum():
        return None
    path = _draft_dir() / f"{token}.geojson"
    return path if path.exists() else None


def _import_villages() -> Any:
    return AdminUnit.objects.filter(level=UnitLevel.VILLAGE).order_by("code")


@staff_page(admin_only=True)
@require_http_methods(["GET", "POST"])
def import_geojson(request: HttpRequest) -> HttpResponse:
    """Upload → dry-run preview (errors and warnings) → apply the very file previewed."""
    user: User = request.user  # type: ignore[assignment]
    villages = _import_villages()
    context: dict[str, Any] = {"form": GeoJSONUploadForm(villages=villages)}
    status = 200
    if request.method == "POST" and request.POST.get("step") == "apply":
        draft = request.session.get(DRAFT_SESSION_KEY) or {}
        path = (
            _draft_path(request.POST.get("token", ""))
            if draft.get("token") == request.POST.get("token")
            else None
        )
        if path is None:
            context["draft_error"] = "预检结果已失效，请重新选择文件预检"
            return render(request, "places/import_geojson.html", context, status=409)
        village = villages.filter(pk=draft.get("village")).first() if draft.get("village") else None
        report = services.grids_import_geojson(actor=user, data=path.read_bytes(), village=village)
        if report.applied:
            path.unlink(missing_ok=True)
            request.session.pop(DRAFT_SESSION_KEY, None)
        context.update(report=report, file_name=draft.get("name", ""), village=village)
        status = 200 if report.applied else 422
    elif request.method == "POST":
        form = GeoJSONUploadForm(request.POST, request.FILES, villages=villages)
        context["form"] = form
        if form.is_valid():
            content = form.cleaned_data["file"].read()
            village = (
                villages.filter(pk=form.cleaned_data["village"]).first()
                if form.cleaned_data["village"]
                else None
            )
            try:
                report = services.grids_import_geojson(
                    actor=user, data=content, village=village, dry_run=True
                )
            except DomainError as exc:
                return _error_page(request, Forbidden(exc.message))
            context.update(report=report, file_name=form.cleaned_data["file"].name, village=village)
            if report.ok:
                token = _store_draft(content)
                request.session[DRAFT_SESSION_KEY] = {
                    "token": token,
                    "name": form.cleaned_data["file"].name,
                    "village": village.pk if village else None,
                }
                context["token"] = token
            else:
                status = 422
        else:
            status = 422
    return render(request, "places/import_geojson.html", context, status=status)


# --- 公示牌 (notice board PDF) ----------------------------------------------------------------------


def _public_base_url(request: HttpRequest) -> str:
    """Where residents reach the site: ``DUALGRID["PUBLIC_BASE_URL"]`` if set, else this request's host."""
    configured = str(settings.DUALGRID.get("PUBLIC_BASE_URL") or "")
    return (configured or request.build_absolute_uri("/")).rstrip("/")


def _pdf_response(pdf: bytes, filename: str, fallback: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = notice.content_disposition(filename, fallback)
    return response


@staff_page()
@require_GET
def grid_notice_pdf(request: HttpRequest, grid_id: int) -> HttpResponse:
    grid = selectors.grid_get_for_user(request.user, grid_id)  # type: ignore[arg-type]
    size = notice.paper_size(request.GET.get("size"))
    pdf = notice.render_notice_pdf([grid], size, _public_base_url(request))
    return _pdf_response(pdf, notice.notice_filename(grid.name), f"notice-{grid.code}-{size}.pdf")


@staff_page()
@require_GET
def village_notices_pdf(request: HttpRequest, unit_id: int) -> HttpResponse:
    village, grids = notice.village_notice_grids(request.user, unit_id)  # type: ignore[arg-type]
    size = notice.paper_size(request.GET.get("size"))
    pdf = notice.render_notice_pdf(grids, size, _public_base_url(request))
    return _pdf_response(pdf, notice.notice_filename(village.name), f"notices-{village.code}-{size}.pdf")
