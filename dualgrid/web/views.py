"""Server-rendered pages. Each view parses input, calls one selector or service, and renders.

Domain errors map to pages: NotFound → 404, Forbidden → 403, Conflict → the message above the
form with the input kept, Invalid → messages next to the fields with the input kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dualgrid.accounts.models import Role, User
from dualgrid.cases import selectors, services
from dualgrid.cases.models import AttachmentKind, Case, CaseAttachment, Status
from dualgrid.cases.workflow import ACTION_LABELS, Action, actions_for
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.lib.files import private_file_response
from dualgrid.places.models import Grid

from . import lookups, presenters, queues
from .forms import (
    ACTION_ERROR_ALIASES,
    ACTION_FIELDS,
    ActionForm,
    CaseFilterForm,
    CaseReportForm,
    RateForm,
    StaffCaseForm,
    TrackForm,
    apply_errors,
)

PAGE_SIZE = 20
REPORT_DONE_SALT = "dualgrid.web.report-done"
TRACK_FAILURE_LIMIT = 10
TRACK_FAILURE_WINDOW = 3600
TRACK_NOT_FOUND = "未查询到匹配的事件，请核对事件编号和手机号后4位。"
TRACK_BLOCKED = "该编号查询失败次数过多，请1小时后再试。"

HOME_BY_ROLE: dict[str, str] = {
    Role.GRIDWORKER: "web:tasks",
    Role.HANDLER: "web:tasks",
    Role.DISPATCHER: "web:queue",
    Role.CALLTAKER: "web:case_new",
    Role.LEADER: "web:case_list",
    Role.ADMIN: "web:case_list",
}
REGISTERING_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.CALLTAKER, Role.GRIDWORKER, Role.HANDLER)
REVEALING_ROLES = frozenset(REGISTERING_ROLES)
ASSIGNED_ONLY_ROLES = frozenset({Role.GRIDWORKER, Role.HANDLER})

login_view = auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True)
logout_view = auth_views.LogoutView.as_view()


# --- plumbing --------------------------------------------------------------------------------------


def is_htmx(request: HttpRequest) -> bool:
    """An htmx partial request; a history restore wants the full page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def error_page(request: HttpRequest, exc: NotFound | Forbidden) -> HttpResponse:
    template = "404.html" if isinstance(exc, NotFound) else "403.html"
    return render(request, template, {"message": exc.message}, status=exc.status)


View = Callable[..., HttpResponseBase]


def staff_user(request: HttpRequest) -> User:
    """The signed-in account of a request that passed ``staff_page`` (so never anonymous)."""
    return request.user  # type: ignore[return-value]


def staff_page(*roles: str) -> Callable[[View], View]:
    """Login required; optionally limited to roles; NotFound/Forbidden rendered as 404/403 pages."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user: User = request.user  # type: ignore[assignment]
            if roles and lookups.effective_role(user) not in roles:
                return error_page(request, Forbidden("您的角色无权访问此页面"))
            try:
                return view(request, *args, **kwargs)
            except (NotFound, Forbidden) as exc:
                return error_page(request, exc)

        return login_required(wrapped)

    return decorate


class CappedPaginator(Paginator):
    """Counting a district's million cases on every page view costs a table scan; past COUNT_CAP
    rows the pager says "10000+" and stops counting."""

    COUNT_CAP = 10000

    @cached_property
    def count(self) -> int:
        return min(self.object_list[: self.COUNT_CAP + 1].count(), self.COUNT_CAP + 1)  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_CAP


def _page(request: HttpRequest, qs: Any) -> Any:
    return CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _still_visible(user: User, case_id: int) -> bool:
    return selectors.cases_for_user(user).filter(pk=case_id).exists()


# --- home and public pages -------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    user: User = request.user  # type: ignore[assignment]
    return redirect(HOME_BY_ROLE.get(lookups.effective_role(user), "web:case_list"))


def _preset_grid(code: str | None) -> Grid | None:
    return Grid.objects.filter(code=code, active=True).select_related("village").first() if code else None


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """A resident's report, no account needed; ``?grid=<code>`` (from a grid's QR code) presets the grid."""
    categories = lookups.category_choices()
    status = 200
    if request.method == "POST":
        form = CaseReportForm(request.POST, request.FILES, categories=categories)
        if form.is_valid():
            try:
                case, _ = services.case_create(actor=None, data=form.case_input())
            except Invalid as exc:
                apply_errors(form, exc.errors)
            else:
                token = signing.dumps(case.number, salt=REPORT_DONE_SALT)
                return redirect(f"{reverse('web:report_done')}?{urlencode({'t': token})}")
        status = 422
    else:
        preset = _preset_grid(request.GET.get("grid"))
        form = CaseReportForm(initial={"grid_code": preset.code if preset else ""}, categories=categories)
    context = {"form": form, "grid": _preset_grid(form["grid_code"].value())}
    return render(request, "web/report.html", context, status=status)


@require_GET
def report_done(request: HttpRequest) -> HttpResponse:
    try:
        number = signing.loads(request.GET.get("t", ""), salt=REPORT_DONE_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        return redirect("web:report")
    track_url = f"{reverse('web:track')}?{urlencode({'number': number})}"
    return render(request, "web/report_done.html", {"number": number, "track_url": track_url})


TRACKED_SESSION_KEY = "tracked_cases"
TRACKED_MAX = 20


def _remember_tracked(request: HttpRequest, case_id: int) -> None:
    """A resident who proved number + phone last 4 may see that case's photos in this browser session."""
    tracked = [cid for cid in request.session.get(TRACKED_SESSION_KEY, []) if cid != case_id]
    request.session[TRACKED_SESSION_KEY] = [case_id, *tracked][:TRACKED_MAX]


@require_GET
def case_photo(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    """A case photo, only for staff whose scope holds the case or the resident who tracked it."""
    if request.user.is_authenticated:
        try:
            selectors.case_get_for_user(request.user, case_id)  # type: ignore[arg-type]
        except NotFound as exc:
            raise Http404(exc.message) from exc
    elif case_id not in request.session.get(TRACKED_SESSION_KEY, []):
        raise Http404("照片不存在")
    attachment = get_object_or_404(CaseAttachment, pk=attachment_id, case_id=case_id)
    return private_file_response(attachment.file)


def _track_key(number: str) -> str:
    return "web:track-fail:" + hashlib.sha256(number.encode()).hexdigest()[:32]


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """A resident's lookup by number and phone last 4; every POST (including a rating) re-checks both.

    A wrong number and a wrong last 4 get the same message, and each number allows a few misses
    an hour, so the page neither confirms numbers nor lets anyone walk through the 10,000 endings.
    """
    if request.method == "GET":
        form = TrackForm(initial={"number": request.GET.get("number", "")})
        return render(request, "web/track.html", {"form": form})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "web/track.html", {"form": form}, status=422)
    number, last4 = form.cleaned_data["number"].strip(), form.cleaned_data["last4"]
    key = _track_key(number)
    if cache.get(key, 0) >= TRACK_FAILURE_LIMIT:
        return render(request, "web/track.html", {"form": form, "lookup_error": TRACK_BLOCKED}, status=429)
    case = selectors.case_track(number, last4)
    if case is None:
        cache.add(key, 0, TRACK_FAILURE_WINDOW)
        cache.incr(key)
        return render(request, "web/track.html", {"form": form, "lookup_error": TRACK_NOT_FOUND})
    _remember_tracked(request, case.pk)

    rate_form = RateForm()
    rate_error = rated = ""
    status = 200
    if "rating" in request.POST:
        rate_form = RateForm(request.POST)
        if case.status != Status.PENDING_RATING:
            rate_error, status = f"事件当前状态为“{case.get_status_display()}”，暂不能评价", 409
        elif rate_form.is_valid():
            try:
                services.case_transition(
                    actor=None,
                    public=True,
                    case_id=case.pk,
                    action=Action.RATE,
                    version=None,
                    note=rate_form.cleaned_data["note"],
                    params={"rating": rate_form.cleaned_data["rating"]},
                )
            except (Conflict, Invalid) as exc:
                rate_error, status = exc.message, exc.status
            else:
                rated = "感谢您的评价！"
                rate_form = RateForm()
                case = selectors.case_track(number, last4) or case
        else:
            rate_error, status = "请选择满意、基本满意或不满意", 422
    context = {
        "form": form,
        "case": case,
        "handling_unit": presenters.handling_unit(case),
        "timeline": presenters.public_timeline(case),
        "photos": list(case.attachments.order_by("created_at", "id")),
        "rate_form": rate_form,
        "rate_error": rate_error,
        "rated": rated,
    }
    return render(request, "web/track_result.html", context, status=status)


@require_GET
def grids_geojson(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(lookups.grids_geojson(), content_type="application/geo+json; charset=utf-8")
    patch_cache_control(response, public=True, max_age=lookups.GEOJSON_CACHE_SECONDS)
    return response


# --- staff pages -----------------------------------------------------------------------------------


@staff_page(*REGISTERING_ROLES)
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """A call-taker (or any registering role) enters a report taken by phone or on patrol."""
    user: User = request.user  # type: ignore[assignment]
    categories = lookups.category_choices()
    status = 200
    if request.method == "POST":
        form = StaffCaseForm(request.POST, request.FILES, categories=categories)
        if form.is_valid():
            try:
                case, created = services.case_create(actor=user, data=form.case_input())
            except Invalid as exc:
                apply_errors(form, exc.errors)
            else:
                if created:
                    messages.success(request, f"已登记，事件编号 {case.number}")
                else:
                    messages.info(request, f"该表单已提交过，事件编号 {case.number}")
                if _still_visible(user, case.pk):
                    return redirect("web:case_detail", case_id=case.pk)
                return redirect("web:case_new")
        status = 422
    else:
        initial = {"channel": "patrol"} if user.role == Role.GRIDWORKER else {}
        form = StaffCaseForm(initial=initial, categories=categories)
    context = {"form": form, "grid": _preset_grid(form["grid_code"].value())}
    return render(request, "web/case_new.html", context, status=status)


@staff_page(Role.DISPATCHER, Role.ADMIN)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    key = request.GET.get("tab", "new")
    if key not in queues.TAB_BY_KEY:
        key = "new"
    context = {
        "tabs": queues.tab_counts(user),
        "tab": key,
        "page": _page(request, queues.tab_cases(user, key)),
        "base_query": urlencode({"tab": key}),
    }
    template = "web/queue_panel.html" if is_htmx(request) else "web/queue.html"
    return render(request, template, context)


@staff_page()
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = CaseFilterForm(request.GET or None, categories=lookups.category_choices())
    qs = selectors.case_list(user, **form.selector_kwargs())
    selected_grid = form.cleaned_data.get("grid") if form.is_bound and form.is_valid() else None
    context = {
        "form": form,
        "page": _page(request, qs),
        "base_query": _query_without_page(request),
        "grid_options": lookups.grid_options(user, selected_id=selected_grid),
        "selected_grid": selected_grid,
    }
    template = "web/case_list_results.html" if is_htmx(request) else "web/case_list.html"
    return render(request, template, context)


def _available_actions(user: User, case: Case) -> list[str]:
    """What the action panel offers: the workflow table's actions for this role, narrowed by the case."""
    role = lookups.effective_role(user)
    if role in ASSIGNED_ONLY_ROLES and not services.case_is_assigned_to(user, case):
        return []
    actions = []
    for action in actions_for(case.status, role):
        if action == Action.REQUEST_EXTENSION and case.extension_pending:
            continue
        if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) and not case.extension_pending:
            continue
        if action in ACTION_FIELDS:
            actions.append(action)
    return actions


def _can_reveal(user: User, case: Case) -> bool:
    role = lookups.effective_role(user)
    if not case.reporter_phone or role not in REVEALING_ROLES:
        return False
    return role not in ASSIGNED_ONLY_ROLES or services.case_is_assigned_to(user, case)


@dataclass(frozen=True)
class ActionChoices:
    """The choice lists every action form on one page shares, read once per request."""

    categories: list[tuple[str, Any]]
    departments: list[tuple[str, str]]

    @classmethod
    def for_user(cls, user: User) -> ActionChoices:
        departments = [(str(d.pk), d.name) for d in lookups.departments_in_scope(user)]
        return cls(categories=lookups.category_choices(), departments=departments)

    def form(self, action: str, data: Any = None, files: Any = None, initial: Any = None) -> ActionForm:
        return ActionForm(
            data,
            files,
            initial=initial,
            action=action,
            categories=self.categories,
            departments=self.departments,
        )


def _detail_context(
    request: HttpRequest, case: Case, bound: ActionForm | None = None, error: str = "", phone: str = ""
) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    initial = {
        "version": case.version,
        "category_code": case.category.code if case.category else "",
        "urgency": case.urgency,
        "target": "department" if case.assigned_department_id else "grid",
        "grid_id": case.assigned_grid_id or case.grid_id,
        "department_id": case.assigned_department_id or "",
    }
    choices = ActionChoices.for_user(user)
    panels = []
    for action in _available_actions(user, case):
        if bound is not None and bound.action == action:
            form = bound
        else:
            form = choices.form(action, initial=initial)
        panels.append({"action": action, "label": ACTION_LABELS[action], "form": form, "available": True})
    if bound is not None and all(p["action"] != bound.action for p in panels):
        # The action is no longer possible; keep what the user typed on screen, without a submit button.
        label = ACTION_LABELS.get(bound.action, bound.action)
        panels.insert(0, {"action": bound.action, "label": label, "form": bound, "available": False})
    dispatch_grids = None
    if any(p["action"] == Action.DISPATCH for p in panels):
        selected = case.assigned_grid_id or case.grid_id
        if (
            bound is not None
            and bound.action == Action.DISPATCH
            and str(bound["grid_id"].value() or "").isdigit()
        ):
            selected = int(bound["grid_id"].value())
        dispatch_grids = lookups.grid_options(user, selected_id=selected)
    attachments = list(case.attachments.order_by("created_at", "id"))
    return {
        "case": case,
        "deadline": presenters.deadline_of(case),
        "handling_unit": presenters.handling_unit(case),
        "timeline": presenters.staff_timeline(case),
        "report_photos": [a for a in attachments if a.kind == AttachmentKind.REPORT],
        "result_photos": [a for a in attachments if a.kind == AttachmentKind.RESULT],
        "panels": panels,
        "open_action": bound.action if bound is not None else "",
        "action_error": error,
        "dispatch_grids": dispatch_grids,
        "can_reveal": _can_reveal(user, case),
        "revealed_phone": phone,
    }


@staff_page()
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, case_id)  # type: ignore[arg-type]
    return render(request, "web/case_detail.html", _detail_context(request, case))


@staff_page()
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = selectors.case_get_for_user(user, case_id)
    if action not in ACTION_FIELDS:
        raise NotFound("没有这个办理动作")
    choices = ActionChoices.for_user(user)
    form = choices.form(action, request.POST, request.FILES)
    error, status = "", 422
    if form.is_valid():
        try:
            services.case_transition(actor=user, case_id=case.pk, action=action, **form.transition_args())
        except Conflict as exc:
            error, status = exc.message, exc.status
            if exc.code == "stale_version":
                # Keep the typed input, now against the version the page shows, so a deliberate retry works.
                data = request.POST.copy()
                data["version"] = str(selectors.case_get_for_user(user, case_id).version)
                form = choices.form(action, data)
        except Invalid as exc:
            aliases = dict(ACTION_ERROR_ALIASES)
            if form.cleaned_data.get("target") == "department":
                aliases["grid_id"] = "department_id"
            apply_errors(form, exc.errors, aliases)
        else:
            messages.success(request, f"已{ACTION_LABELS[action]}")
            if _still_visible(user, case.pk):
                return redirect("web:case_detail", case_id=case.pk)
            return redirect("web:home")
    case = selectors.case_get_for_user(user, case_id)
    return render(request, "web/case_detail.html", _detail_context(request, case, form, error), status=status)


@staff_page()
@require_POST
def case_reveal_phone(request: HttpRequest, case_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    phone = services.case_reveal_phone(actor=user, case_id=case_id)
    case = selectors.case_get_for_user(user, case_id)
    if is_htmx(request):
        context = {"phone": phone, "timeline": presenters.staff_timeline(case)}
        return render(request, "web/_phone_revealed.html", context)
    return render(request, "web/case_detail.html", _detail_context(request, case, phone=phone))


@staff_page(Role.GRIDWORKER, Role.HANDLER)
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.my_tasks(request.user))  # type: ignore[arg-type]
    return render(request, "web/tasks.html", {"page": page, "base_query": ""})


@staff_page()
@require_GET
def grid_options(request: HttpRequest) -> HttpResponse:
    """<option>s for the searchable grid picker (htmx)."""
    try:
        selected = int(request.GET.get("selected") or 0) or None
    except ValueError:
        selected = None
    grids = lookups.grid_options(request.user, request.GET.get("term", ""), selected)  # type: ignore[arg-type]
    context = {"grids": grids, "selected": selected, "empty_label": request.GET.get("empty", "")}
    return render(request, "web/_grid_options.html", context)
