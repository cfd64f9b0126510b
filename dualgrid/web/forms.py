"""Forms parse and re-display input; the rules live in the services.

Fields the services validate are ``required=False`` here so that every message a user sees about a
case comes from one place (``services._clean_input`` / ``case_transition``). A service's ``Invalid``
is put back onto the form with ``apply_errors``.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from dualgrid.cases.models import Channel, DeadlineState, Rating, Status, Urgency
from dualgrid.cases.services import CaseInput
from dualgrid.cases.workflow import Action

STAFF_CHANNELS = [
    (Channel.HOTLINE, Channel.HOTLINE.label),
    (Channel.HOTLINE_12345, Channel.HOTLINE_12345.label),
    (Channel.PATROL, Channel.PATROL.label),
    (Channel.GROUP, Channel.GROUP.label),
    (Channel.WEB, Channel.WEB.label),
    (Channel.OTHER, Channel.OTHER.label),
]
EXTENSION_DAYS = [(1, "1天"), (2, "2天"), (3, "3天"), (5, "5天"), (7, "7天")]
NO_CATEGORY = "不清楚，由中心分类"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos under one name; the services check count, size and that each is an image."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in files if item]


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def apply_errors(form: forms.Form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    """Attach a service's field errors to the form; unknown fields become form-level errors."""
    aliases = aliases or {}
    for name, message in errors.items():
        name = aliases.get(name, name)
        form.add_error(name if name in form.fields else None, message)


class CaseReportForm(forms.Form):
    """The resident's report (/report/)."""

    description = forms.CharField(
        label="反映的问题",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "maxlength": 5000,
                "placeholder": "请描述问题的具体情况，如时间、地点、影响范围等",
            }
        ),
    )
    title = forms.CharField(
        label="标题（选填）",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 100, "placeholder": "不填则自动取描述的第一句"}),
    )
    category_code = forms.ChoiceField(label="问题分类（选填）", required=False)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(
        label="详细地址",
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": 200, "placeholder": "如：XX小区3栋门口、XX路与XX路交叉口"}
        ),
    )
    reporter_name = forms.CharField(
        label="您的称呼（选填）",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 32, "autocomplete": "name"}),
    )
    reporter_phone = forms.CharField(
        label="联系电话",
        required=False,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "maxlength": 20,
                "placeholder": "用于查询进度和回访",
            }
        ),
    )
    photos = PhotosField(label="现场照片（选填，最多6张）")
    grid_code = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    channel_value: str = Channel.WEB

    def __init__(self, *args: Any, categories: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "category_code", [("", NO_CATEGORY), *categories])
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def case_input(self) -> CaseInput:
        data = self.cleaned_data
        return CaseInput(
            description=data["description"],
            title=data["title"],
            channel=data.get("channel") or self.channel_value,
            reporter_name=data["reporter_name"],
            reporter_phone=data["reporter_phone"],
            lat=data["lat"],
            lng=data["lng"],
            address=data["address"],
            category_code=data["category_code"] or None,
            urgency=data.get("urgency") or Urgency.NORMAL,
            grid_code=data["grid_code"] or None,
            idempotency_key=data["idempotency_key"] or None,
            photos=data["photos"],
        )


class StaffCaseForm(CaseReportForm):
    """A call-taker registering a phone report (/cases/new/); the phone number is optional."""

    channel = forms.ChoiceField(label="来源渠道", choices=STAFF_CHANNELS, initial=Channel.HOTLINE)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.NORMAL)

    field_order = [
        "channel",
        "urgency",
        "reporter_name",
        "reporter_phone",
        "description",
        "title",
        "category_code",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].label = "诉求内容"
        self.fields["reporter_name"].label = "来电人"
        self.fields["reporter_phone"].label = "联系电话（选填）"
        self.fields["reporter_phone"].widget.attrs["placeholder"] = "来电号码"
        self.fields["category_code"].label = "事件分类"


class TrackForm(forms.Form):
    number = forms.CharField(
        label="事件编号",
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "如 20261123000012"}
        ),
        error_messages={"required": "请填写事件编号"},
    )
    last4 = forms.RegexField(
        label="手机号后4位",
        regex=r"^\d{4}$",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4, "autocomplete": "off"}),
        error_messages={"required": "请填写手机号后4位", "invalid": "请填写4位数字"},
    )


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        choices=Rating.choices, error_messages={"required": "请选择满意、基本满意或不满意"}
    )
    note = forms.CharField(
        label="意见建议（选填）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "placeholder": "说说您对办理结果的看法"}),
    )


NOTE_LABELS = {
    Action.REJECT: "不予受理的理由",
    Action.RECALL: "撤回的理由",
    Action.RETURN: "退回的理由",
    Action.REQUEST_EXTENSION: "延期理由",
    Action.DENY_EXTENSION: "驳回理由",
    Action.RESOLVE: "处置结果",
    Action.SEND_BACK: "核查不通过的原因",
    Action.RATE: "回访记录",
}
NOTE_REQUIRED = frozenset(
    {
        Action.REJECT,
        Action.RECALL,
        Action.RETURN,
        Action.REQUEST_EXTENSION,
        Action.DENY_EXTENSION,
        Action.RESOLVE,
        Action.SEND_BACK,
    }
)
# Which inputs each action's form shows (besides the hidden version).
ACTION_FIELDS: dict[str, list[str]] = {
    Action.ACCEPT: ["category_code", "urgency", "note"],
    Action.REJECT: ["note"],
    Action.DISPATCH: ["target", "grid_id", "department_id", "category_code", "urgency", "note"],
    Action.RECALL: ["note"],
    Action.SIGN: [],
    Action.RETURN: ["note"],
    Action.REQUEST_EXTENSION: ["days", "note"],
    Action.APPROVE_EXTENSION: ["note"],
    Action.DENY_EXTENSION: ["note"],
    Action.RESOLVE: ["note", "photos"],
    Action.VERIFY: ["note"],
    Action.SEND_BACK: ["note"],
    Action.CLOSE: ["note"],
    Action.RATE: ["rating", "note"],
}
# Service field names that this form shows under another name.
ACTION_ERROR_ALIASES = {"hours": "days"}


class ActionForm(forms.Form):
    """One workflow action on the case detail page; every action posts the case version it saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label="说明（选填）", required=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000})
    )
    category_code = forms.ChoiceField(label="事件分类", required=False)
    urgency = forms.ChoiceField(label="紧急程度", required=False, choices=Urgency.choices)
    target = forms.ChoiceField(
        label="派往",
        choices=[("grid", "网格"), ("department", "职能部门")],
        initial="grid",
        required=False,
        widget=forms.RadioSelect,
    )
    grid_id = forms.IntegerField(label="承办网格", required=False)
    department_id = forms.ChoiceField(label="承办部门", required=False)
    days = forms.TypedChoiceField(
        label="延期时长", choices=EXTENSION_DAYS, coerce=int, required=False, empty_value=None
    )
    rating = forms.ChoiceField(
        label="评价结果", choices=Rating.choices, required=False, widget=forms.RadioSelect
    )
    photos = PhotosField(label="处置照片（选填，最多6张）")

    def __init__(
        self,
        *args: Any,
        action: str,
        categories: list[tuple[str, Any]] | None = None,
        departments: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", f"{action}-%s")
        super().__init__(*args, **kwargs)
        self.action = action
        set_choices(self, "category_code", [("", "（不修改）"), *(categories or [])])
        set_choices(self, "department_id", [("", "请选择部门"), *(departments or [])])
        self.fields["note"].label = NOTE_LABELS.get(action, "说明（选填）")
        self.fields["note"].widget.attrs["required"] = action in NOTE_REQUIRED
        self.fields["target"].widget.attrs["x-model"] = "target"
        self.fields["department_id"].widget.attrs[":disabled"] = "target !== 'department'"

    @property
    def shown_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.shown]

    @property
    def shown(self) -> list[str]:
        return ACTION_FIELDS.get(self.action, ["note"])

    def transition_args(self) -> dict[str, Any]:
        """Keyword arguments for ``services.case_transition`` (without actor, case and photos)."""
        data = self.cleaned_data
        params: dict[str, Any] = {}
        shown = self.shown
        if "category_code" in shown and data.get("category_code"):
            params["category_code"] = data["category_code"]
        if "urgency" in shown and data.get("urgency"):
            params["urgency"] = data["urgency"]
        if "target" in shown:
            if data.get("target") == "department":
                params["department_id"] = int(data["department_id"]) if data.get("department_id") else None
            else:
                params["grid_id"] = data.get("grid_id")
        if "days" in shown:
            params["hours"] = data["days"] * 24 if data.get("days") else None
        if "rating" in shown:
            params["rating"] = data.get("rating") or None
        return {
            "version": data["version"],
            "note": data.get("note", ""),
            "photos": (data.get("photos") or []) if "photos" in shown else [],
            "params": {key: value for key, value in params.items() if value is not None},
        }


# The hidden date filters of the case list and their words (登记日期 is a visible field).
DATE_FILTER_LABELS = {
    "closed": "结案日期",
    "dispatched": "最近派遣日期",
    "signed": "签收日期",
    "resolved": "办结反馈日期",
}


class CaseFilterForm(forms.Form):
    """Filters of the case list (/cases/); read from the query string."""

    status = forms.ChoiceField(label="状态", required=False)
    deadline_state = forms.ChoiceField(label="时限", required=False)
    grid = forms.IntegerField(label="网格", required=False)
    category = forms.ChoiceField(label="分类", required=False)
    channel = forms.ChoiceField(label="渠道", required=False)
    created_from = forms.DateField(
        label="登记日期从", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    created_to = forms.DateField(
        label="登记日期至", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    q = forms.CharField(
        label="关键词",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "编号、标题或地址"}),
    )
    # Set by the cockpit's links (a unit's cases, those closed in a period); kept across filter changes.
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    department = forms.IntegerField(required=False, widget=forms.HiddenInput)
    assignee = forms.IntegerField(required=False, widget=forms.HiddenInput)
    closed_from = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_to = forms.DateField(required=False, widget=forms.HiddenInput)
    # The cockpit's department and grid-worker figures: cases last dispatched, signed for or reported
    # resolved in a period, and cases a worker registered (上报).
    dispatched_from = forms.DateField(required=False, widget=forms.HiddenInput)
    dispatched_to = forms.DateField(required=False, widget=forms.HiddenInput)
    signed_from = forms.DateField(required=False, widget=forms.HiddenInput)
    signed_to = forms.DateField(required=False, widget=forms.HiddenInput)
    resolved_from = forms.DateField(required=False, widget=forms.HiddenInput)
    resolved_to = forms.DateField(required=False, widget=forms.HiddenInput)
    creator = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def hidden_filters(self) -> str:
        """The cockpit's filters in words (they have no visible field), e.g. "结案日期 … 至 …"."""
        if not self.is_bound or not self.is_valid():
            return ""
        data = self.cleaned_data
        parts = ["限定单位"] if data["unit"] else []
        if data["department"]:
            parts.append("限定承办部门")
        if data["assignee"]:
            parts.append("限定签收人")
        if data["creator"]:
            parts.append("限定登记人")
        for name, label in DATE_FILTER_LABELS.items():
            if data[f"{name}_from"] or data[f"{name}_to"]:
                parts.append(f"{label} {data[f'{name}_from'] or '…'} 至 {data[f'{name}_to'] or '…'}")
        return "；".join(parts)

    def __init__(self, *args: Any, categories: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "status", [("", "全部状态"), *Status.choices])
        set_choices(self, "channel", [("", "全部渠道"), *Channel.choices])
        set_choices(
            self,
            "deadline_state",
            [("", "全部"), *[(v, label) for v, label in DeadlineState.choices if v != DeadlineState.NONE]],
        )
        set_choices(self, "category", [("", "全部分类"), *categories])

    def selector_kwargs(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        dates = {
            name: (data[f"{name}_from"], data[f"{name}_to"])
            for name in ("created", *DATE_FILTER_LABELS)
            if data[f"{name}_from"] or data[f"{name}_to"]
        }
        return dates | {
            "status": [data["status"]] if data["status"] else None,
            "deadline_state": data["deadline_state"] or None,
            "grid_id": data["grid"],
            "category_code": data["category"] or None,
            "query": data["q"].strip() or None,
            "unit_id": data["unit"],
            "channel": data["channel"] or None,
            "department_id": data["department"],
            "assignee_id": data["assignee"],
            "creator_id": data["creator"],
        }
