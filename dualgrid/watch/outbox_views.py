"""Pages for what goes out to the groups: the outbox log, reply drafts (from the case page), notices
(宣传) and chat-history imports. Views parse input, call one service or selector and render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import Conflict, Invalid
from dualgrid.people.models import Tag
from dualgrid.places.models import AdminUnit, Department, Grid
from dualgrid.places.selectors import grids_for_user
from dualgrid.web.forms import apply_errors
from dualgrid.web.views import staff_page, staff_user

from . import imports, outbox, publicity
from .models import Connector, NoticeStatus, OutboxKind, OutboxStatus

PAGE_SIZE = 30
NOTICE_PAGE_SIZE = 50


# --- outbox log ---------------------------------------------------------------------------------------


@staff_page(*outbox.OUTBOX_ROLES)
@require_GET
def outbox_list(request: HttpRequest) -> HttpResponse:
    qs = outbox.outbox_for_user(staff_user(request))
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    if status in OutboxStatus.values:
        qs = qs.filter(status=status)
    if kind in OutboxKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "status": status,
        "kind": kind,
        "statuses": OutboxStatus.choices,
        "kinds": OutboxKind.choices,
        "base_query": query.urlencode(),
    }
    return render(request, "watch/outbox_list.html", context)


@staff_page(*outbox.OUTBOX_ROLES)
@require_GET
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = outbox.outbox_get_for_user(staff_user(request), pk)
    context = {
        "row": row,
        "attempts": list(row.attempt_log.all()),
        "problem": outbox.unsendable(row.connector),
    }
    return render(request, "watch/outbox_detail.html", context)


def _back(request: HttpRequest, fallback: str, **kwargs: Any) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback, **kwargs)


@staff_page(*outbox.OUTBOX_ROLES)
@require_POST
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        outbox.outbox_retry(actor=staff_user(request), outbox_id=pk)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新加入发送队列，后台将在一分钟内发送")
    return _back(request, "watch:outbox_detail", pk=pk)


@staff_page(*outbox.OUTBOX_ROLES)
@require_POST
def outbox_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        outbox.outbox_cancel(actor=staff_user(request), outbox_id=pk)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已取消发送")
    return _back(request, "watch:outbox_detail", pk=pk)


# --- reply drafts (the form is on the case page: watch/_case_reply.html) ----------------------------


@staff_page()
@require_POST
def reply_send(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    try:
        row = outbox.reply_send(actor=user, outbox_id=pk, text=request.POST.get("text", ""))
    except (Conflict, Invalid) as exc:
        messages.error(request, exc.message)
        case_id = outbox.Outbox.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        return redirect("web:case_detail", case_id=case_id) if case_id else redirect("web:home")
    messages.success(request, f"回复已加入发送队列，将发送到“{row.chat_group.name}”")
    return redirect("web:case_detail", case_id=row.case_id)


@staff_page()
@require_POST
def reply_discard(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    try:
        row = outbox.reply_discard(actor=user, outbox_id=pk)
    except Conflict as exc:
        messages.error(request, exc.message)
        case_id = outbox.Outbox.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        return redirect("web:case_detail", case_id=case_id) if case_id else redirect("web:home")
    messages.success(request, "已选择不向群发送回复")
    return redirect("web:case_detail", case_id=row.case_id)


# --- notices ------------------------------------------------------------------------------------------


class NoticeForm(forms.Form):
    title = forms.CharField(label="标题", max_length=100)
    body = forms.CharField(label="内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 6}))
    theme = forms.CharField(
        label="本周主题",
        max_length=50,
        required=False,
        help_text="如：防范电信诈骗、防溺水；同一周的宣传按主题汇总",
    )
    department = forms.CharField(label="发布部门", max_length=64, required=False)
    units: forms.ModelMultipleChoiceField[AdminUnit] = forms.ModelMultipleChoiceField(
        label="发送到单位（单位内全部网格的群）", queryset=None, required=False
    )
    grids: forms.ModelMultipleChoiceField[Grid] = forms.ModelMultipleChoiceField(
        label="发送到网格（含其微网格的群）", queryset=None, required=False
    )
    tags: forms.ModelMultipleChoiceField[Tag] = forms.ModelMultipleChoiceField(
        label="发送到有此类人员的网格",
        queryset=None,
        required=False,
        help_text="按居民当前标签，如独居老人、留守儿童",
    )
    scheduled_at = forms.DateTimeField(
        label="发送时间",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "style": "padding: 8px 10px; font-size: 15px"},
            format="%Y-%m-%dT%H:%M",
        ),
        help_text="留空则立即发送",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = publicity.units_in_scope(user).order_by("code")  # type: ignore[attr-defined]
        self.fields["grids"].queryset = grids_for_user(user).filter(active=True).order_by("code")  # type: ignore[attr-defined]
        self.fields["tags"].queryset = Tag.objects.filter(active=True)  # type: ignore[attr-defined]
        for name in ("units", "grids", "tags"):
            self.fields[name].widget.attrs["size"] = 8

    def notice_input(self) -> publicity.NoticeInput:
        data = self.cleaned_data
        return publicity.NoticeInput(
            title=data["title"],
            body=data["body"],
            theme=data["theme"],
            department=data["department"],
            units=list(data["units"]),
            grids=list(data["grids"]),
            tags=list(data["tags"]),
            scheduled_at=data["scheduled_at"],
        )


@staff_page(*publicity.READER_ROLES)
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    qs = publicity.notices_for_user(user).order_by("-scheduled_at", "-id")
    page = Paginator(qs, NOTICE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "weeks": publicity.by_week(page.object_list),
        "can_compose": publicity.can_compose(user),
        "base_query": "",
    }
    return render(request, "watch/notice_list.html", context)


@staff_page(*publicity.COMPOSER_ROLES)
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    status = 200
    if request.method == "POST":
        form = NoticeForm(request.POST, user=user)
        if form.is_valid():
            try:
                notice = publicity.notice_create(actor=user, data=form.notice_input())
            except Invalid as exc:
                apply_errors(form, exc.errors)
            else:
                when = timezone.localtime(notice.scheduled_at)
                messages.success(request, f"宣传已排期，将于 {when:%Y-%m-%d %H:%M} 发送")
                return redirect("watch:notice_detail", pk=notice.pk)
        status = 422
    else:
        form = NoticeForm(user=user, initial={"theme": publicity.latest_theme(user)})
    departments = Department.objects.order_by("code").values_list("name", flat=True)
    return render(
        request, "watch/notice_form.html", {"form": form, "departments": departments}, status=status
    )


@staff_page(*publicity.READER_ROLES)
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    notice = publicity.notice_get_for_user(user, pk)
    rows = publicity.deliveries(notice)
    counts: dict[str, int] = {}
    for row in rows:
        key = row.outbox.status if row.outbox else "none"
        counts[key] = counts.get(key, 0) + 1
    context = {
        "notice": notice,
        "rows": rows,
        "counts": counts,
        "text": publicity.notice_text(notice),
        "can_cancel": publicity.can_compose(user)
        and notice.status in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED),
        "can_manage": outbox.may_manage_outbox(user),
    }
    return render(request, "watch/notice_detail.html", context)


@staff_page(*publicity.COMPOSER_ROLES)
@require_POST
def notice_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        publicity.notice_cancel(actor=staff_user(request), notice_id=pk)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "宣传已取消")
    return redirect("watch:notice_detail", pk=pk)


# --- chat-history import ------------------------------------------------------------------------------


class ImportForm(forms.Form):
    connector = forms.ModelChoiceField(
        label="消息接入", queryset=Connector.objects.filter(active=True), empty_label="请选择"
    )
    format = forms.ChoiceField(label="文件格式", choices=list(imports.FORMATS.items()))
    mapping = forms.CharField(
        label="CSV列对应（仅CSV）",
        required=False,
        help_text="如 group_id=群ID,message_id=消息ID,sender=发送人,time=时间,text=内容；不填则按这些默认列名",
    )
    file = forms.FileField(label="聊天记录文件", error_messages={"required": "请选择要上传的文件"})


@staff_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    report = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = imports.import_file(data["connector"], data["format"], data["file"], data["mapping"])
            except imports.ImportFailed as exc:
                form.add_error(None, f"未导入：{exc}")
                status = 422
        else:
            status = 422
    else:
        form = ImportForm(initial={"connector": Connector.objects.filter(active=True, kind="import").first()})
    context = {
        "form": form,
        "report": report,
        "csv_fields": list(imports.CSV_FIELD_LABELS.items()),
        "defaults": imports.CSV_FIELDS,
    }
    return render(request, "watch/import.html", context, status=status)
