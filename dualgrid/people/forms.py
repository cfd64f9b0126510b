"""Forms parse and re-display input; the rules (dates, overlaps, ID checksums) live in the services,
whose ``Invalid`` errors are put back onto the form with ``apply_errors``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from dualgrid.accounts.models import User
from dualgrid.web.forms import apply_errors

from .models import (
    BusinessCategory,
    Concern,
    Gender,
    KeyPlaceKind,
    PostName,
    Staff,
    StaffRole,
    Tag,
    VisitKind,
)
from .selectors import towns_for_user
from .services import StaffInput, VisitInput
from .visit_rules import SHANGHAI

NEW_PERSON = "new"
DATE_ATTRS = {"type": "date"}

# Service field names → the form's field names.
STAFF_ALIASES = {
    "name": "new_name",
    "gender": "new_gender",
    "phone": "new_phone",
    "id_number": "new_id_number",
    "username": "new_username",
    "staff": "staff",
    "new_staff": "staff",
}


def put_errors(form: forms.Form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    apply_errors(form, errors, {**STAFF_ALIASES, **(aliases or {})})


class PersonFields(forms.Form):
    """Pick a person already registered, or register a new one in the same step."""

    staff = forms.ChoiceField(label="人员")
    new_name = forms.CharField(label="姓名", required=False, widget=forms.TextInput(attrs={"maxlength": 32}))
    new_gender = forms.ChoiceField(label="性别", required=False, choices=[("", "—"), *Gender.choices])
    new_phone = forms.CharField(
        label="手机号", required=False, widget=forms.TextInput(attrs={"type": "tel", "maxlength": 20})
    )
    new_id_number = forms.CharField(
        label="身份证号",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 18, "autocomplete": "off"}),
    )
    new_username = forms.CharField(
        label="关联登录账号（选填）",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 150, "placeholder": "已有账号的用户名"}),
    )

    def __init__(self, *args: Any, people: list[Staff], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NEW_PERSON, "＋ 登记新人员"), *((str(p.pk), p.name) for p in people)]
        self.fields["staff"].choices = choices  # type: ignore[attr-defined]
        self.people = {str(p.pk): p for p in people}

    def person(self) -> Staff | StaffInput:
        value = self.cleaned_data["staff"]
        if value == NEW_PERSON:
            return StaffInput(
                name=self.cleaned_data["new_name"],
                gender=self.cleaned_data["new_gender"],
                phone=self.cleaned_data["new_phone"],
                id_number=self.cleaned_data["new_id_number"],
                username=self.cleaned_data["new_username"],
            )
        return self.people[value]


def _roles() -> list[tuple[str, str]]:
    return [(str(r.pk), r.name) for r in StaffRole.objects.filter(active=True)]


def _post_names() -> list[tuple[str, str]]:
    return [("", "（不设）"), *((str(p.pk), p.name) for p in PostName.objects.filter(active=True))]


class AssignmentAddForm(PersonFields):
    role = forms.ChoiceField(label="角色")
    post_name = forms.ChoiceField(label="统一岗位名称", required=False)
    start_date = forms.CharField(label="任职日期", required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    note = forms.CharField(label="备注", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The grid staff page shows this form beside ReplaceForm: distinct ids keep each label on its field.
        kwargs.setdefault("auto_id", "add_%s")
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _roles()  # type: ignore[attr-defined]
        self.fields["post_name"].choices = _post_names()  # type: ignore[attr-defined]

    def role_obj(self) -> StaffRole:
        return StaffRole.objects.get(pk=self.cleaned_data["role"])

    def post_name_obj(self) -> PostName | None:
        value = self.cleaned_data["post_name"]
        return PostName.objects.get(pk=value) if value else None


class ReplaceForm(PersonFields):
    assignment = forms.ChoiceField(label="原任人员")
    on_date = forms.CharField(label="变动日期", required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    reason = forms.CharField(
        label="变动原因",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": "如：调动、辞职、退休"}),
    )

    def __init__(self, *args: Any, current: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "replace_%s")
        super().__init__(*args, **kwargs)
        self.fields["staff"].label = "接任人员"
        self.fields["assignment"].choices = [  # type: ignore[attr-defined]
            (str(a.pk), f"{a.staff.name}（{a.role.name}）") for a in current
        ]
        self.current = {str(a.pk): a for a in current}


class EndForm(forms.Form):
    end_date = forms.CharField(label="离任日期", required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    reason = forms.CharField(
        label="离任原因", required=False, widget=forms.TextInput(attrs={"maxlength": 200})
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "姓名，或完整手机号/身份证号"}),
    )
    grid = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tag = forms.ChoiceField(label="标签", required=False)

    def __init__(self, *args: Any, tags: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "全部")] + (tags or [])  # type: ignore[attr-defined]

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_valid() else None


class TagAddForm(forms.Form):
    """Put a resident into a key population: the tag, 关注程度, since when, a note."""

    # Any active tag is accepted (one the resident holds is the service's Conflict); the menu offers
    # only those not held.
    tag = forms.CharField(label="标签", required=False, widget=forms.Select)
    level = forms.ChoiceField(label="关注程度", choices=Concern.choices, required=False)
    since = forms.CharField(label="纳入日期", required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    note = forms.CharField(label="备注", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))

    def __init__(self, *args: Any, tags: list[Tag], held: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tags = {str(t.pk): t for t in tags}
        offered = [(str(t.pk), f"{t.get_group_display()}·{t.name}") for t in tags if t.pk not in held]
        self.fields["tag"].widget.choices = [("", "请选择"), *offered]  # type: ignore[attr-defined]

    def clean_tag(self) -> Tag:
        tag = self.tags.get(self.cleaned_data["tag"])
        if tag is None:
            raise forms.ValidationError("请选择标签")
        return tag


class TagEndForm(forms.Form):
    ended_on = forms.CharField(label="结束日期", required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    reason = forms.CharField(
        label="结束原因",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": "如：已搬离、已成年、已脱贫、去世"}),
    )


class RegisterFilterForm(forms.Form):
    """Filters of a register list (households, rental houses, business premises, key places) and of
    its export, read from the query string: the user's towns, a grid, the list's kinds, free text."""

    kinds: list[tuple[str, str]] | None = None
    kind_param = "kind"  # the selector's name for the kind filter
    placeholder = ""

    q = forms.CharField(
        label="搜索", required=False, max_length=50, widget=forms.TextInput(attrs={"type": "search"})
    )
    town = forms.TypedChoiceField(label="镇街", required=False, coerce=int, empty_value=None)
    grid = forms.IntegerField(label="网格", required=False, min_value=1)
    kind = forms.ChoiceField(label="类别", required=False)

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data or None)
        towns = [(str(t.pk), t.name) for t in towns_for_user(user).order_by("code")]
        self.fields["town"].choices = [("", "全部镇街"), *towns]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "全部类别"), *(self.kinds or [])]  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs["placeholder"] = self.placeholder

    @property
    def has_kinds(self) -> bool:
        return self.kinds is not None

    @property
    def has_towns(self) -> bool:
        """More than one town to choose from (a grid worker or a town account has none or one)."""
        return len(self.fields["town"].choices) > 2  # type: ignore[attr-defined]

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_valid() else None

    def selector_kwargs(self) -> dict[str, Any]:
        """query, town_id, grid_id and the kind for the list's selector; nothing when the input is bad."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        kwargs = {"query": data["q"].strip(), "town_id": data["town"], "grid_id": data["grid"]}
        if self.has_kinds:
            kwargs[self.kind_param] = data["kind"] or None
        return kwargs


class HouseholdFilterForm(RegisterFilterForm):
    placeholder = "地址、门牌号、户主，或成员完整手机号/身份证号"


class RentalFilterForm(RegisterFilterForm):
    placeholder = "地址、房东姓名，或房东完整电话"


class BusinessFilterForm(RegisterFilterForm):
    kinds = BusinessCategory.choices
    kind_param = "category"
    placeholder = "名称、地址、联系人、执照号，或完整电话"


class KeyPlaceFilterForm(RegisterFilterForm):
    kinds = KeyPlaceKind.choices
    placeholder = "名称、地址、联系人，或完整电话"


def _now_local() -> str:
    return timezone.localtime(timezone.now(), SHANGHAI).strftime("%Y-%m-%dT%H:%M")


class VisitForm(forms.Form):
    visited_at = forms.DateTimeField(
        label="走访时间",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    kind = forms.ChoiceField(label="走访方式", choices=VisitKind.choices, widget=forms.RadioSelect)
    found = forms.CharField(
        label="走访情况",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "maxlength": 2000, "placeholder": "身体、生活、家中情况，发现的困难或问题"}
        ),
    )
    photo = forms.ImageField(label="照片（选填）", required=False)
    raise_case = forms.BooleanField(label="发现问题，上报事件", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"visited_at": _now_local(), "kind": VisitKind.HOME})
        super().__init__(*args, **kwargs)

    def visit_input(self, resident_id: int) -> VisitInput:
        data = self.cleaned_data
        visited_at: datetime | None = data["visited_at"]
        if visited_at is not None and timezone.is_naive(visited_at):
            visited_at = visited_at.replace(tzinfo=SHANGHAI)
        return VisitInput(
            resident_id=resident_id,
            visited_at=visited_at,
            kind=data["kind"],
            found=data["found"],
            photo=data["photo"] or None,
            raise_case=data["raise_case"],
        )
