from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .models import AuditEntry, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "unit", "department", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "display_name"]
    autocomplete_fields = ["unit", "department", "grids"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("角色与管辖范围", {"fields": ("display_name", "phone", "role", "unit", "department", "grids")}),
    )
    add_fieldsets = (
        *(BaseUserAdmin.add_fieldsets or ()),
        ("角色与管辖范围", {"fields": ("display_name", "role", "unit", "department")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "object_type", "object_id", "detail"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "detail", "user__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
