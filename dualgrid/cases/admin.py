"""Configuration of the case workflow in the admin. Cases themselves are read-only here: every
change of a case goes through the workflow (web pages or API) so that it lands on the timeline."""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from . import config
from .models import Case, CaseEvent, Category, Holiday, RoutingRule, TimeLimit


class InvalidatesConfig(admin.ModelAdmin):
    """Edits take effect at once in this process (others re-read within CONFIG_CACHE_SECONDS)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(config.invalidate)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(config.invalidate)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(config.invalidate)


@admin.register(Category)
class CategoryAdmin(InvalidatesConfig):
    list_display = ["code", "name", "parent", "kind", "active", "sort"]
    list_filter = ["kind", "active", "parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(TimeLimit)
class TimeLimitAdmin(InvalidatesConfig):
    list_display = ["category", "kind", "urgency", "unit", "sign_limit", "resolve_limit"]
    list_filter = ["urgency", "unit", "kind"]
    autocomplete_fields = ["category"]


@admin.register(Holiday)
class HolidayAdmin(InvalidatesConfig):
    list_display = ["date", "name", "is_workday"]
    list_filter = ["is_workday"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(InvalidatesConfig):
    list_display = ["category", "unit", "handler", "department", "priority", "active"]
    list_filter = ["handler", "active"]
    search_fields = ["category__name", "department__name"]
    autocomplete_fields = ["category", "unit", "department"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("created_at", "actor_label", "action", "from_status", "to_status", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "status",
        "category",
        "grid",
        "channel",
        "created_at",
        "deadline_state",
    ]
    list_filter = ["status", "deadline_state", "channel", "urgency"]
    search_fields = ["number", "title"]
    exclude = ["reporter_phone", "idempotency_key"]
    inlines = [CaseEventInline]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
