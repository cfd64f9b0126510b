from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are created by uploads and changed only by the import itself."""

    list_display = (
        "id",
        "kind",
        "original_name",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "error_rows",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("original_name", "created_by__username")
    exclude = ("errors",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
