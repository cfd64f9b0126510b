"""巡群 pages: the grid worker's patrol feed (phone first), 转为事件 / 忽略 on a message, the supervisors'
patrol table and the urgent-message alerts.

Each view parses input, calls one selector or service of ``feed`` and renders; NotFound/Forbidden become
the 404/403 pages through ``staff_page``, a Conflict (someone else was quicker) the message on the card.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dualgrid.cases.models import Urgency
from dualgrid.cases.services import MAX_DESCRIPTION, MAX_TITLE
from dualgrid.lib.errors import Conflict, Invalid
from dualgrid.places.selectors import towns_in_scope
from dualgrid.web import lookups
from dualgrid.web.forms import NO_CATEGORY, apply_errors, set_choices
from dualgrid.web.views import is_htmx, staff_page, staff_user

from . import feed
from .models import GroupMessage

PAGE_SIZE = 20
PATROL_PAGE_SIZE = 100
FEED_ROLES = tuple(feed.VIEWERS)
SUPERVISOR_ROLES = tuple(feed.SUPERVISORS)
ALERT_ROLES = tuple(feed.ALERTED_ROLES)


# --- forms -------------------------------------------------------------------------------------------


class MakeCaseForm(forms.Form):
    title = forms.CharField(label="标题", max_length=MAX_TITLE)
    description = forms.CharField(
        label="事件描述", max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 4})
    )
    category_code = forms.ChoiceField(label="事件分类", required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, widget=forms.RadioSelect)
    reporter_name = forms.CharField(label="反映人", max_length=32, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "category_code", [("", NO_CATEGORY), *lookups.category_choices()])

    def draft(self) -> feed.CaseDraft:
        return feed.CaseDraft(**self.cleaned_data)


class DismissForm(forms.Form):
    reason = forms.ChoiceField(
        label="忽略原因",
        choices=[(r, r) for r in feed.DISMISS_REASONS],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择忽略原因"},
    )
    note = forms.CharField(
        label="说明（选填）",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "如：已电话联系，系误会"}),
    )


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatrolFilterForm(forms.Form):
    date_from = forms.DateField(label="开始日期", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="结束日期", required=False, widget=DATE_INPUT)
    town = forms.TypedChoiceField(label="镇街", required=False, coerce=int, empty_value=None)
    missed = forms.BooleanField(label="只看有漏巡的", required=False)

    def __init__(self, *args: Any, towns: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "town", [("", "全部镇街"), *towns])


# --- the feed ----------------------------------------------------------------------------------------


def _card(
    request: HttpRequest,
    message: GroupMessage,
    *,
    panel: str = "",
    form: forms.Form | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
    merged: list[GroupMessage] | None = None,
) -> HttpResponse:
    context = {
        "m": message,
        "can_act": feed.role_of(staff_user(request)) in feed.ACTORS,
        "show_grid": feed.spans_grids(staff_user(request)),
        "panel": panel,
        "form": form,
        "error": error,
        "notice": notice,
        # After 转为事件/忽略 the tab's count is swapped too (out of band), so it never lags the cards.
        "pending_oob": str(feed.pending_count(staff_user(request))) if notice else "",
        # Messages merged into the new case: their cards on the page are replaced (out of band) too.
        "merged": merged or [],
    }
    return render(request, "watch/feed_card.html", context, status=status)


@staff_page(*FEED_ROLES)
@require_GET
def feed_page(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    tab = request.GET.get("tab", "pending")
    if tab not in feed.TABS:
        tab = "pending"
    feed.patrol_log(user=user)
    page = Paginator(feed.feed_list(user, tab), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tab": tab,
        "tabs": feed.TABS,
        "pending": feed.pending_count(user),
        "page": page,
        "base_query": f"tab={tab}",
        "can_act": feed.role_of(user) in feed.ACTORS,
        "show_grid": feed.spans_grids(user),
    }
    if is_htmx(request):
        return render(request, "watch/feed_panel.html", context)
    context.update(
        today=feed.patrol_today(user),
        alerts=feed.alert_count(user),
        alert_minutes=feed.alert_minutes(),
        supervisor=feed.role_of(user) in feed.SUPERVISORS,
    )
    return render(request, "watch/feed.html", context)


@staff_page(*FEED_ROLES)
@require_GET
def message_context(request: HttpRequest, message_id: int) -> HttpResponse:
    messages_around = feed.message_context(staff_user(request), message_id)
    context = {"thread": messages_around, "focus": message_id}
    template = "watch/feed_context.html" if is_htmx(request) else "watch/feed_context_page.html"
    return render(request, template, context)


def _after_action(
    request: HttpRequest, message: GroupMessage, notice: str, merged: list[GroupMessage] | None = None
) -> HttpResponse:
    if is_htmx(request):
        return _card(request, message, notice=notice, merged=merged)
    messages.success(request, notice)
    return redirect(reverse("watch:feed"))


def _form_page(
    request: HttpRequest,
    message: GroupMessage,
    panel: str,
    form: forms.Form,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    if is_htmx(request):
        if request.method == "GET":
            template = "watch/feed_case_form.html" if panel == "case" else "watch/feed_dismiss_form.html"
            return render(request, template, {"m": message, "form": form})
        return _card(request, message, panel=panel, form=form, error=error, status=status)
    context = {"m": message, "panel": panel, "form": form, "error": error, "can_act": True, "show_grid": True}
    return render(request, "watch/feed_action.html", context, status=status)


@staff_page(*FEED_ROLES)
@require_http_methods(["GET", "POST"])
def message_case(request: HttpRequest, message_id: int) -> HttpResponse:
    """转为事件: GET the prefilled form, POST it."""
    user = staff_user(request)
    message = feed.message_get_for_action(user, message_id)
    if request.method == "GET":
        draft = feed.case_draft(message)
        return _form_page(request, message, "case", MakeCaseForm(initial=asdict(draft)))
    form = MakeCaseForm(request.POST)
    if not form.is_valid():
        return _form_page(request, message, "case", form, status=422)
    try:
        message, case = feed.message_make_case(actor=user, message_id=message_id, draft=form.draft())
    except Conflict as exc:
        fresh = feed.message_get_for_user(user, message_id)
        return _form_page(request, fresh, "case", form, error=exc.message, status=exc.status)
    except Invalid as exc:
        apply_errors(form, exc.errors, {"grid_code": "__all__", "reporter_phone": "reporter_name"})
        return _form_page(request, message, "case", form, status=exc.status)
    where = "，已按分拨规则派发" if case.assigned_grid_id or case.assigned_department_id else "，待中心受理"
    merged = feed.merged_into(case)
    also = f"；另有 {len(merged)} 条相同内容的消息已关联到该事件" if merged else ""
    return _after_action(request, message, f"已转为事件 {case.number}{where}{also}", merged=merged)


@staff_page(*FEED_ROLES)
@require_http_methods(["GET", "POST"])
def message_dismiss(request: HttpRequest, message_id: int) -> HttpResponse:
    """忽略 with a reason: GET the form, POST it."""
    user = staff_user(request)
    message = feed.message_get_for_action(user, message_id)
    if request.method == "GET":
        return _form_page(request, message, "dismiss", DismissForm())
    form = DismissForm(request.POST)
    if not form.is_valid():
        return _form_page(request, message, "dismiss", form, status=422)
    try:
        message = feed.message_dismiss(actor=user, message_id=message_id, **form.cleaned_data)
    except Conflict as exc:
        fresh = feed.message_get_for_user(user, message_id)
        return _form_page(request, fresh, "dismiss", form, error=exc.message, status=exc.status)
    except Invalid as exc:
        apply_errors(form, exc.errors)
        return _form_page(request, message, "dismiss", form, status=exc.status)
    return _after_action(request, message, "已忽略")


@staff_page(*FEED_ROLES)
@require_POST
def message_unlink(request: HttpRequest, message_id: int) -> HttpResponse:
    """撤销并入: an automatic duplicate link was wrong; the message goes back to 待处置."""
    user = staff_user(request)
    try:
        message = feed.message_unlink(actor=user, message_id=message_id)
    except Conflict as exc:
        message = feed.message_get_for_user(user, message_id)
        if is_htmx(request):
            return _card(request, message, error=exc.message, status=exc.status)
        messages.error(request, exc.message)
        return redirect(reverse("watch:feed"))
    return _after_action(request, message, "已撤销并入，消息回到待处置")


# --- supervisors -------------------------------------------------------------------------------------


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_page(*SUPERVISOR_ROLES)
@require_GET
def patrol(request: HttpRequest) -> HttpResponse:
    """Per grid worker and day: the key windows patrolled, the flagged messages handled and how fast."""
    user = staff_user(request)
    towns = [(str(t.pk), t.name) for t in towns_in_scope(user)]
    today = feed.local_today()
    date_from: date = today - timedelta(days=6)
    date_to: date = today
    form = PatrolFilterForm(
        request.GET or None, towns=towns, initial={"date_from": date_from, "date_to": date_to}
    )
    town_id: int | None = None
    only_missed = False
    if form.is_bound and form.is_valid():
        date_to = form.cleaned_data["date_to"] or date_to
        date_from = form.cleaned_data["date_from"] or min(date_from, date_to)
        town_id = form.cleaned_data["town"]
        only_missed = form.cleaned_data["missed"]
    status = 200
    try:
        report = feed.patrol_report(user, date_from, date_to, town_id=town_id)
    except Invalid as exc:
        apply_errors(form, exc.errors)
        report = feed.PatrolReport(date_from=date_from, date_to=date_to)
        status = exc.status
    rows = [r for r in report.rows if r.missed] if only_missed else report.rows
    context = {
        "form": form,
        "report": report,
        "page": Paginator(rows, PATROL_PAGE_SIZE).get_page(request.GET.get("page")),
        "base_query": _query_without_page(request),
        "windows": feed.windows_for_unit(user.unit if user.unit_id else None),
    }
    return render(request, "watch/patrol.html", context, status=status)


@staff_page(*ALERT_ROLES)
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """Urgent messages nobody handled in time, for the centre and the grid leader."""
    user = staff_user(request)
    page = Paginator(feed.alerts_for_user(user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "base_query": "",
        "can_act": feed.role_of(user) in feed.ACTORS,
        "show_grid": feed.spans_grids(user),
        "alert_minutes": feed.alert_minutes(),
    }
    return render(request, "watch/alerts.html", context)
