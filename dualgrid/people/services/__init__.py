"""Writes on people: staff and assignments (with the grid access they carry), residents and places,
tags, visits, and revealing personal data. Every function is keyword-only and atomic; errors are
``dualgrid.lib.errors`` exceptions with Chinese messages."""

from .common import parse_date
from .residents import (
    RESIDENT_WRITERS,
    ResidentInput,
    business_premise_create,
    business_unmask,
    household_create,
    key_place_create,
    key_place_unmask,
    rental_house_create,
    rental_house_unmask,
    resident_clean,
    resident_create,
    resident_tag_add,
    resident_tag_end,
    resident_tag_remove,
    resident_unmask,
)
from .staff import (
    StaffInput,
    assignment_end,
    assignment_replace,
    assignment_start,
    assignments_sync,
    staff_clean,
    staff_create,
    staff_link_user,
    staff_unmask,
)
from .visits import VisitInput, visit_log

__all__ = [
    "RESIDENT_WRITERS",
    "ResidentInput",
    "StaffInput",
    "VisitInput",
    "assignment_end",
    "assignment_replace",
    "assignment_start",
    "assignments_sync",
    "business_premise_create",
    "business_unmask",
    "household_create",
    "key_place_create",
    "key_place_unmask",
    "parse_date",
    "rental_house_create",
    "rental_house_unmask",
    "resident_clean",
    "resident_create",
    "resident_tag_add",
    "resident_tag_end",
    "resident_tag_remove",
    "resident_unmask",
    "staff_clean",
    "staff_create",
    "staff_link_user",
    "staff_unmask",
    "visit_log",
]
