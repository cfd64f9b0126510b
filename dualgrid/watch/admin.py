from django.contrib import admin, messages
from django.http import HttpRequest

from .inbound import map_quarantined
from .models import Connector, DeliveryAttempt, GroupMessage, Notice, Outbox, PatrolWindow, QuarantinedGroup


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "platform", "active", "send_url"]
    list_filter = ["kind", "platform", "active"]
    search_fields = ["slug", "name"]


@admin.register(QuarantinedGroup)
class QuarantinedGroupAdmin(admin.ModelAdmin):
    list_display = ["external_group_id", "group_name", "connector", "message_count", "last_seen", "mapped_to"]
    list_filter = ["connector"]
    search_fields = ["external_group_id", "group_name"]
    autocomplete_fields = ["mapped_to"]
    readonly_fields = [
        "connector",
        "external_group_id",
        "group_name",
        "first_seen",
        "last_seen",
        "message_count",
        "mapped_at",
    ]

    def save_model(self, request: HttpRequest, obj: QuarantinedGroup, form, change) -> None:  # type: ignore[no-untyped-def]
        target = obj.mapped_to
        previous = QuarantinedGroup.objects.filter(pk=obj.pk).values_list("mapped_to", flat=True).first()
        super().save_model(request, obj, form, change)
        if target is not None and target.pk != previous:
            moved = map_quarantined(obj, target)
            messages.success(request, f"已关联到“{target}”，{moved} 条留存消息已进入该网格的巡群列表")


@admin.register(PatrolWindow)
class PatrolWindowAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "start", "end"]
    list_filter = ["unit"]


@admin.register(GroupMessage)
class GroupMessageAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "chat_group", "sender_name", "kind", "state", "urgency", "actionable"]
    list_filter = ["state", "urgency", "kind", "connector"]
    search_fields = ["text", "external_id", "external_group_id"]
    raw_id_fields = ["chat_group", "grid", "case", "duplicate_of", "handled_by"]
    readonly_fields = ["connector", "external_id", "external_group_id", "received_at", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = ["at", "ok", "status_code", "detail"]
    can_delete = False


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "chat_group", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["chat_group", "case", "notice", "created_by"]
    inlines = [DeliveryAttemptInline]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "theme", "scheduled_at", "status"]
    list_filter = ["status"]
    filter_horizontal = ["units", "grids", "tags"]
