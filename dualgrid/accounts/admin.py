from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


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
