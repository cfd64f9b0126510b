"""Rental houses (出租房), business premises (经营场所) and key places (重点场所): new ones through
``people.services``' create functions, changed ones by a bulk update (people has no update service)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.db.models import Model

from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import DomainError
from dualgrid.people import services as people
from dualgrid.people.models import BusinessCategory, BusinessPremise, KeyPlace, KeyPlaceKind, RentalHouse
from dualgrid.places.models import Grid

from .. import services
from .base import Column, Counts, Errors, Importer, Row
from .grids import GRID_COLUMN, GridIndex
from .parsers import choice, count, phone, text

BLANK_KEEPS = "选填列留空：新增时为空，更新时保留系统中的原值。"
CATEGORIES = {label: value for value, label in BusinessCategory.choices}
PLACE_KINDS = {label: value for value, label in KeyPlaceKind.choices}


class PremisesImporter(Importer):
    """Rows keyed by (grid, ``key_field``) within the grid; ``fields`` maps column keys to model fields."""

    model: ClassVar[type[Model]]
    key_field: ClassVar[str]
    fields: ClassVar[dict[str, str]]  # column key → model field
    phone_field: ClassVar[str]
    create: ClassVar[Callable[..., Any]]

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        sound = self.sound(rows, errors)
        grids = GridIndex(self.scope, codes=(r.values.get("grid") for r in sound))
        grid_ids = {g.pk for g in grids.by_code.values()}
        existing: dict[tuple[int, str], list[Any]] = {}
        for obj in self.model._default_manager.filter(grid_id__in=grid_ids):
            existing.setdefault((obj.grid_id, getattr(obj, self.key_field)), []).append(obj)  # type: ignore[attr-defined]
        self.creates: list[tuple[Row, int]] = []
        self.updates: list[tuple[Any, list[str]]] = []
        for row in sound:
            grid = grids.resolve(row, errors)
            if grid is None:
                continue
            found = existing.get((grid.pk, row.values[self.key_column]), [])
            if len(found) > 1:
                errors.add(
                    row,
                    self.header(self.key_column),
                    "系统中该网格已有多条同名记录，请先在系统中合并后再导入",
                )
                continue
            if not found:
                self.creates.append((row, grid.pk))
                continue
            obj = found[0]
            changed = []
            for key, field_name in self.fields.items():
                value = row.values.get(key)
                if value is None:
                    continue
                if field_name == self.phone_field:
                    if getattr(obj, f"{field_name}_hash") != keyed_hash(value):
                        setattr(obj, field_name, value)
                        setattr(obj, f"{field_name}_hash", keyed_hash(value))
                        changed += [field_name, f"{field_name}_hash"]
                elif getattr(obj, field_name) != value:
                    setattr(obj, field_name, value)
                    changed.append(field_name)
            if changed:
                self.updates.append((obj, changed))
            else:
                self.counts.unchanged += 1

    @property
    def key_column(self) -> str:
        return next(k for k, f in self.fields.items() if f == self.key_field)

    def create_kwargs(self, values: dict[str, Any]) -> dict[str, Any]:
        return {field: values[key] for key, field in self.fields.items() if values.get(key) is not None}

    def apply(self, errors: Errors) -> Counts:
        grids = {g.pk: g for g in Grid.objects.filter(pk__in={g for _, g in self.creates})}
        for row, grid_id in self.creates:
            try:
                type(self).create(actor=self.user, grid=grids[grid_id], **self.create_kwargs(row.values))
            except DomainError as exc:
                for field_name, message in getattr(exc, "errors", {"": exc.message}).items():
                    column = next((k for k, f in self.fields.items() if f == field_name), "grid")
                    errors.add(row, self.header(column), message)
                continue
            self.counts.created += 1
        services.premises_update(model=self.model, updates=self.updates)
        self.counts.updated = len(self.updates)
        return self.counts


class RentalHousesImporter(PremisesImporter):
    kind = "rental_houses"
    label = "出租房"
    model = RentalHouse
    key_field = "address"
    phone_field = "landlord_phone"
    create = staticmethod(people.rental_house_create)
    fields = {
        "address": "address",
        "landlord_name": "landlord_name",
        "landlord_phone": "landlord_phone",
        "tenants": "tenants",
    }
    columns = (
        GRID_COLUMN,
        Column(
            "address",
            "地址",
            text(200),
            required=True,
            help="同一网格内按地址识别",
            example="大佛社区5栋1单元302",
            width=28,
        ),
        Column("landlord_name", "房东姓名", text(32), required=True, example="李四"),
        Column("landlord_phone", "房东电话", phone, example="13712345678", text_format=True),
        Column("tenants", "租住人数", count(500), help="0到500的整数", example=3),
    )
    key_columns = ("grid", "address")
    notes = ("按“网格编码+地址”识别：已有的更新，没有的新增；重复导入同一文件不会产生任何变化。", BLANK_KEEPS)


class BusinessPremisesImporter(PremisesImporter):
    kind = "business_premises"
    label = "经营场所"
    model = BusinessPremise
    key_field = "name"
    phone_field = "contact_phone"
    create = staticmethod(people.business_premise_create)
    fields = {
        "name": "name",
        "address": "address",
        "category": "category",
        "licence_no": "licence_no",
        "contact_name": "contact_name",
        "contact_phone": "contact_phone",
    }
    columns = (
        GRID_COLUMN,
        Column(
            "name",
            "名称",
            text(100),
            required=True,
            help="同一网格内按名称识别",
            example="老王火锅店",
            width=22,
        ),
        Column("address", "地址", text(200), required=True, example="大佛社区滨江路12号", width=28),
        Column(
            "category",
            "类别",
            choice(CATEGORIES, "类别"),
            help="、".join(CATEGORIES) + "；留空为其他",
            example="餐饮",
            choices=tuple(CATEGORIES),
        ),
        Column(
            "licence_no",
            "统一社会信用代码/执照号",
            text(32),
            example="91500223MA5U000000",
            text_format=True,
            width=24,
        ),
        Column("contact_name", "联系人", text(32), example="王五"),
        Column("contact_phone", "联系电话", phone, example="13612345678", text_format=True),
    )
    key_columns = ("grid", "name")
    notes = ("按“网格编码+名称”识别：已有的更新，没有的新增；重复导入同一文件不会产生任何变化。", BLANK_KEEPS)


class KeyPlacesImporter(PremisesImporter):
    kind = "key_places"
    label = "重点场所"
    model = KeyPlace
    key_field = "name"
    phone_field = "contact_phone"
    create = staticmethod(people.key_place_create)
    fields = {
        "name": "name",
        "kind": "kind",
        "address": "address",
        "contact_name": "contact_name",
        "contact_phone": "contact_phone",
    }
    columns = (
        GRID_COLUMN,
        Column(
            "name",
            "名称",
            text(100),
            required=True,
            help="同一网格内按名称识别",
            example="大佛小学",
            width=22,
        ),
        Column(
            "kind",
            "类别",
            choice(PLACE_KINDS, "类别"),
            required=True,
            help="、".join(PLACE_KINDS),
            example="学校",
            choices=tuple(PLACE_KINDS),
        ),
        Column("address", "地址", text(200), required=True, example="大佛社区学府路1号", width=28),
        Column("contact_name", "联系人", text(32), example="赵六"),
        Column("contact_phone", "联系电话", phone, example="023-44551234", text_format=True),
    )
    key_columns = ("grid", "name")
    notes = ("按“网格编码+名称”识别：已有的更新，没有的新增；重复导入同一文件不会产生任何变化。", BLANK_KEEPS)
