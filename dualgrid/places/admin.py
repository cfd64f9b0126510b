"""Configuration of places in the admin. Grid and chat-group edits go through the services, so the
tree rules, the denormalised ancestors and the encrypted owner phone stay right whatever the entry path."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import DomainError, Invalid
from dualgrid.lib.privacy import is_phone, mask_phone, normalize_phone

from . import services
from .models import AdminUnit, ChatGroup, Department, Duty, Grid, GridTier, TierDuty
from .selectors import approved_duties


@admin.register(AdminUnit)
class AdminUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


class GridForm(forms.ModelForm):
    class Meta:
        model = Grid
        fields = [
            "code",
            "name",
            "tier",
            "kind",
            "parent",
            "village",
            "active",
            "households",
            "population",
            "duties",
            "boundary",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        errors = services.grid_placement_errors(
            code=data.get("code") or "",
            tier=data.get("tier") or "",
            village=data.get("village"),
            parent=data.get("parent"),
        )
        for field_name, message in errors.items():
            if field_name in self.fields and field_name not in self.errors:
                self.add_error(field_name, message)
        return data


class ChatGroupInline(admin.TabularInline):
    model = ChatGroup
    fields = ["platform", "name", "external_id", "member_count", "owner_name"]
    extra = 0
    show_change_link = True


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    form = GridForm
    list_display = [
        "code",
        "name",
        "tier",
        "kind",
        "parent",
        "village",
        "town",
        "households",
        "population",
        "active",
    ]
    list_filter = ["tier", "kind", "active", "town"]
    search_fields = ["code", "name", "village__name"]
    autocomplete_fields = ["village", "parent"]
    readonly_fields = ["town", "county", "updated_at"]
    filter_horizontal = ["duties"]
    inlines = [ChatGroupInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "tier", "kind", "parent", "village", "town", "county", "active"]}),
        ("户数与人口", {"fields": ["households", "population"]}),
        (
            "职责清单",
            {"fields": ["duties"], "description": "留空则使用所属层级的默认职责；未批准的事项不生效。"},
        ),
        (
            "边界",
            {"fields": ["boundary", "updated_at"], "description": "批量导入请用“网格边界导入”（GeoJSON）。"},
        ),
    ]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "duties":
            kwargs["queryset"] = approved_duties()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Grid, form: Any, change: bool) -> None:
        services.grid_save(actor=request.user, grid=obj)  # type: ignore[arg-type]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ChatGroup:
            super().save_formset(request, form, formset, change)
            return
        groups = formset.save(commit=False)
        for gone in formset.deleted_objects:
            gone.delete()
        for group in groups:
            services.chat_group_save(actor=request.user, group=group)  # type: ignore[arg-type]


class TierDutyInline(admin.TabularInline):
    model = TierDuty
    extra = 0
    verbose_name = "作为该层级的默认职责"
    verbose_name_plural = "作为以下层级的默认职责"


@admin.register(Duty)
class DutyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "standard", "approved", "approved_at", "tier_list", "active", "sort"]
    list_filter = ["approved", "standard", "active", "tiers__tier"]
    search_fields = ["code", "name"]
    readonly_fields = ["approved", "approved_at"]
    inlines = [TierDutyInline]
    actions = ["approve"]

    @admin.display(description="默认层级")
    def tier_list(self, obj: Duty) -> str:
        labels = dict(GridTier.choices)
        return "、".join(str(labels[td.tier]) for td in obj.tiers.all()) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Duty]:
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.action(description="批准")
    def approve(self, request: HttpRequest, queryset: QuerySet[Duty]) -> None:
        try:
            ids = list(queryset.values_list("pk", flat=True))
            count = services.duty_approve(actor=request.user, duty_ids=ids)  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request, f"已批准 {count} 项职责事项" if count else "所选事项均已批准过", messages.SUCCESS
        )


class ChatGroupForm(forms.ModelForm):
    """The owner's phone is write-only here: the current one is shown masked, a new one replaces it."""

    new_owner_phone = forms.CharField(label="群主手机号", required=False, max_length=20)

    class Meta:
        model = ChatGroup
        fields = ["grid", "platform", "name", "external_id", "member_count", "owner_name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.owner_phone if self.instance.pk else ""
        self.fields["new_owner_phone"].help_text = (
            f"当前：{mask_phone(current)}；留空则不变" if current else "选填，加密保存，页面上脱敏显示"
        )

    def clean_new_owner_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data.get("new_owner_phone") or "")
        if phone and not is_phone(phone):
            raise forms.ValidationError("群主手机号格式不正确")
        return phone


class GridLinkFilter(admin.SimpleListFilter):
    title = "是否关联网格"
    parameter_name = "linked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "已关联网格"), ("no", "未关联网格")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ChatGroup]) -> QuerySet[ChatGroup]:
        if self.value() == "yes":
            return queryset.filter(grid__isnull=False)
        if self.value() == "no":
            return queryset.filter(grid__isnull=True)
        return queryset


@admin.register(ChatGroup)
class ChatGroupAdmin(admin.ModelAdmin):
    form = ChatGroupForm
    list_display = [
        "name",
        "platform",
        "external_id",
        "grid",
        "member_count",
        "owner_name",
        "owner_phone_masked",
    ]
    list_filter = ["platform", GridLinkFilter]
    search_fields = ["name", "external_id", "grid__name", "grid__code", "owner_name"]
    autocomplete_fields = ["grid"]
    list_select_related = ["grid"]

    @admin.display(description="群主手机号")
    def owner_phone_masked(self, obj: ChatGroup) -> str:
        return mask_phone(obj.owner_phone or "") or "—"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        phone = normalize_phone(search_term)
        if is_phone(phone):
            return queryset.filter(owner_phone_hash=keyed_hash(phone)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: ChatGroup, form: Any, change: bool) -> None:
        new_phone = form.cleaned_data.get("new_owner_phone")
        if new_phone:
            obj.owner_phone = new_phone
        try:
            services.chat_group_save(actor=request.user, group=obj)  # type: ignore[arg-type]
        except Invalid as exc:
            self.message_user(request, exc.message, messages.ERROR)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "phone", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["unit"]
