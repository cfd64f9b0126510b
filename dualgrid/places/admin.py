from django.contrib import admin

from .models import AdminUnit, Department, Grid


@admin.register(AdminUnit)
class AdminUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "village", "town", "households", "population", "active"]
    list_filter = ["kind", "active", "town"]
    search_fields = ["code", "name", "village__name"]
    autocomplete_fields = ["village", "town", "county"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "unit", "phone", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["unit"]
