"""Triage in the admin: edit the keyword rules; activate, roll back or switch off model versions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from dualgrid.lib.errors import DomainError

from . import engine, services
from .models import TriageModel, TriageRule


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "category_code", "urgency", "weight", "active", "sort", "updated_at"]
    list_filter = ["kind", "urgency", "active"]
    list_editable = ["active", "sort"]
    search_fields = ["name", "keywords", "category_code"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(engine.invalidate)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(engine.invalidate)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(engine.invalidate)


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "task",
        "active",
        "metric_summary",
        "created_at",
        "activated_at",
        "previous",
        "note",
    ]
    list_filter = ["task", "active"]
    search_fields = ["version", "note"]
    readonly_fields = [
        "version",
        "task",
        "path",
        "labels",
        "metrics",
        "data_sha256",
        "created_at",
        "registered_at",
        "active",
        "activated_at",
        "previous",
    ]
    fields = [*readonly_fields, "note"]
    actions = ["activate", "roll_back", "switch_off"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from `dualgrid triage train --register`

    @admin.display(description="指标")
    def metric_summary(self, obj: TriageModel) -> str:
        return obj.metric_summary()

    @admin.action(description="启用所选版本（各任务一个）")
    def activate(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        chosen = list(queryset.order_by("task", "-created_at"))
        if len({m.task for m in chosen}) != len(chosen):
            self.message_user(request, "每个任务只能启用一个版本，请只选一个", messages.ERROR)
            return
        for model in chosen:
            try:
                services.activate_model(model)
            except DomainError as exc:
                self.message_user(request, f"{model.version}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"已启用 {model.version}，各进程将在数秒内切换", messages.SUCCESS)

    @admin.action(description="回滚到上一版本")
    def roll_back(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        for task in sorted({m.task for m in queryset}):
            try:
                target = services.rollback(task)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            if target is None:
                self.message_user(request, "已停用模型，仅按规则研判（没有更早的版本）", messages.WARNING)
            else:
                self.message_user(request, f"已回滚到 {target.version}", messages.SUCCESS)

    @admin.action(description="停用模型（仅按规则研判）")
    def switch_off(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        for task in sorted({m.task for m in queryset}):
            services.deactivate(task)
        self.message_user(request, "已停用，仅按规则研判", messages.SUCCESS)
