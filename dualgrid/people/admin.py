"""Admin: the configuration (roles, post names, tags and their visit rules) is edited here; records
holding personal data are read-only lists with ID and phone numbers masked — they change through
the people pages and services, which validate, keep access in step and write the audit rows."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dualgrid.lib.idcard import mask_id
from dualgrid.lib.privacy import mask_phone

from .models import (
    Assignment,
    BusinessPremise,
    Household,
    KeyPlace,
    PostName,
    RentalHouse,
    Resident,
    Staff,
    StaffRole,
    Tag,
    Visit,
)


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "grants_access", "sort", "active"]
    list_editable = ["grants_access", "sort", "active"]


@admin.register(PostName)
class PostNameAdmin(admin.ModelAdmin):
    list_display = ["name", "sort", "active"]
    list_editable = ["sort", "active"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "code", "visit_every_days", "active"]
    list_filter = ["group", "active"]
    list_editable = ["visit_every_days", "active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list to look things up; writes go through the pages and services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Staff)
class StaffAdmin(ReadOnlyAdmin):
    list_display = ["name", "gender", "masked_phone", "masked_id", "user", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    fields = readonly_fields = (
        "name",
        "gender",
        "masked_phone",
        "masked_id",
        "user",
        "active",
    )

    @admin.display(description="手机号")
    def masked_phone(self, obj: Staff) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="身份证号")
    def masked_id(self, obj: Staff) -> str:
        return mask_id(obj.id_number)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["staff", "grid", "role", "post_name", "start_date", "end_date", "end_reason"]
    list_filter = ["role", "end_date"]
    search_fields = ["staff__name", "grid__name", "grid__code"]
    list_select_related = ["staff", "grid", "role", "post_name"]


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["address", "house_number", "head_name", "grid"]
    search_fields = ["address", "head_name", "grid__name"]
    list_select_related = ["grid"]


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = ["name", "gender", "birth_date", "masked_id", "masked_phone", "grid"]
    search_fields = ["name", "grid__name"]
    list_select_related = ["grid"]
    fields = readonly_fields = (
        "name",
        "gender",
        "birth_date",
        "masked_id",
        "masked_phone",
        "grid",
        "household",
        "address",
        "notes",
    )

    @admin.display(description="手机号")
    def masked_phone(self, obj: Resident) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="身份证号")
    def masked_id(self, obj: Resident) -> str:
        return mask_id(obj.id_number)


@admin.register(RentalHouse)
class RentalHouseAdmin(ReadOnlyAdmin):
    list_display = ["address", "landlord_name", "masked_phone", "tenants", "grid"]
    search_fields = ["address", "landlord_name"]
    list_select_related = ["grid"]
    fields = readonly_fields = (
        "address",
        "landlord_name",
        "masked_phone",
        "tenants",
        "grid",
        "note",
    )

    @admin.display(description="房东电话")
    def masked_phone(self, obj: RentalHouse) -> str:
        return mask_phone(obj.landlord_phone)


@admin.register(BusinessPremise)
class BusinessPremiseAdmin(ReadOnlyAdmin):
    list_display = ["name", "category", "address", "contact_name", "masked_phone", "grid"]
    list_filter = ["category"]
    search_fields = ["name", "address", "licence_no"]
    list_select_related = ["grid"]
    fields = readonly_fields = (
        "name",
        "category",
        "address",
        "licence_no",
        "contact_name",
        "masked_phone",
        "grid",
    )

    @admin.display(description="联系电话")
    def masked_phone(self, obj: BusinessPremise) -> str:
        return mask_phone(obj.contact_phone)


@admin.register(KeyPlace)
class KeyPlaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "address", "contact_name", "masked_phone", "grid"]
    list_filter = ["kind"]
    search_fields = ["name", "address"]
    list_select_related = ["grid"]
    fields = readonly_fields = (
        "name",
        "kind",
        "address",
        "contact_name",
        "masked_phone",
        "grid",
    )

    @admin.display(description="联系电话")
    def masked_phone(self, obj: KeyPlace) -> str:
        return mask_phone(obj.contact_phone)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["visited_at", "resident", "household", "kind", "visitor", "grid", "raised_case"]
    list_filter = ["kind"]
    search_fields = ["resident__name", "grid__name"]
    list_select_related = ["resident", "household", "visitor", "grid", "raised_case"]
    date_hierarchy = "visited_at"
