"""Importers of the places tree: administrative units, grids, departments (administrators only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dualgrid.lib.errors import DomainError
from dualgrid.places.models import AdminUnit, Department, Grid, GridKind, GridTier, UnitLevel
from dualgrid.places.rules import ParentRef, placement_errors

from .. import services
from .base import Column, Counts, Errors, Importer, Row
from .parsers import choice, count, digits, phone, text, yes_no

LEVELS = {
    "市": UnitLevel.CITY,
    "区县": UnitLevel.COUNTY,
    "区": UnitLevel.COUNTY,
    "县": UnitLevel.COUNTY,
    "镇街": UnitLevel.TOWN,
    "镇": UnitLevel.TOWN,
    "街道": UnitLevel.TOWN,
    "乡": UnitLevel.TOWN,
    "村/社区": UnitLevel.VILLAGE,
    "村": UnitLevel.VILLAGE,
    "社区": UnitLevel.VILLAGE,
}
LEVEL_LABELS = dict(UnitLevel.choices)
TIERS = {label: value for value, label in GridTier.choices}
KINDS = {label: value for value, label in GridKind.choices}
BLANK_KEEPS = "选填列留空：新增时取默认值，更新时保留系统中的原值。"


def changed_fields(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Fields whose wanted value is given (not None) and differs from the current one."""
    return [k for k, v in wanted.items() if v is not None and current.get(k) != v]


# --- administrative units ------------------------------------------------------------------------------


@dataclass
class UnitRef:
    pk: int | None
    level: int
    parent_code: str | None
    name: str


class UnitsImporter(Importer):
    kind = "units"
    label = "行政区划"
    admin_only = True
    columns = (
        Column(
            "code",
            "区划代码",
            digits(12, "区划代码"),
            required=True,
            help="12位统计用区划代码：6位区县代码 + 3位镇街 + 3位村/社区",
            example="500152001001",
            text_format=True,
        ),
        Column("name", "名称", text(64), required=True, help="如 大佛社区", example="大佛社区", width=20),
        Column(
            "level",
            "层级",
            choice(LEVELS, "层级"),
            required=True,
            help="市、区县、镇街 或 村/社区",
            example="村/社区",
            choices=("市", "区县", "镇街", "村/社区"),
        ),
        Column(
            "parent",
            "上级区划代码",
            digits(12, "上级区划代码"),
            help="镇街、村/社区必填；上级可以在本文件中，也可以已在系统中",
            example="500152001000",
            text_format=True,
        ),
    )
    key_columns = ("code",)
    notes = (
        "按区划代码识别：系统中已有的区划更新名称，没有的新增；重复导入同一文件不会产生任何变化。",
        "已有区划的层级和上级不能通过导入修改（会影响网格和事件的归属），请在配置管理中调整。",
    )

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        db = {
            code: UnitRef(pk, level, parent_code, name)
            for pk, code, level, parent_code, name in AdminUnit.objects.values_list(
                "pk", "code", "level", "parent__code", "name"
            )
        }
        in_file = {
            r.values["code"]: UnitRef(None, r.values.get("level") or 0, r.values.get("parent"), "")
            for r in rows
            if r.values.get("code")
        }

        def ref(code: str | None) -> UnitRef | None:
            return db.get(code) or in_file.get(code) if code else None

        def chain_ids(code: str) -> list[int | None]:
            ids: list[int | None] = []
            current: str | None = code
            for _ in range(6):
                node = ref(current)
                if node is None:
                    break
                ids.append(node.pk)
                current = node.parent_code
            return ids

        self.creates: list[dict[str, Any]] = []
        self.updates: list[tuple[int, str]] = []
        for row in self.sound(rows, errors):
            code, name, level = row.values["code"], row.values["name"], row.values["level"]
            parent = row.values.get("parent")
            existing = db.get(code)
            if parent == code:
                errors.add(row, self.header("parent"), "上级区划代码不能是自身")
                continue
            if existing is not None:
                if existing.level != level:
                    errors.add(
                        row,
                        self.header("level"),
                        f"该区划已登记为{LEVEL_LABELS[existing.level]}，层级不能通过导入修改",
                    )
                    continue
                if parent and parent != existing.parent_code:
                    errors.add(
                        row,
                        self.header("parent"),
                        f"该区划已登记在 {existing.parent_code or '（无上级）'} 之下，上级不能通过导入修改",
                    )
                    continue
                parent = existing.parent_code
            if level in (UnitLevel.TOWN, UnitLevel.VILLAGE) and not parent:
                errors.add(row, self.header("parent"), "镇街、村/社区须填写上级区划代码")
                continue
            if parent:
                parent_ref = ref(parent)
                if parent_ref is None:
                    errors.add(row, self.header("parent"), f"上级区划 {parent} 在文件和系统中都不存在")
                    continue
                if parent_ref.level and parent_ref.level != level - 1:
                    errors.add(
                        row,
                        self.header("parent"),
                        f"{LEVEL_LABELS[level]}的上级应为{LEVEL_LABELS.get(level - 1, '无')}，"
                        f"{parent} 是{LEVEL_LABELS.get(parent_ref.level, '')}",
                    )
                    continue
            if not self.scope.covers(chain_ids(code)):
                errors.add(row, self.header("code"), self.scope.refusal())
                continue
            if existing is None:
                self.creates.append({"code": code, "name": name, "level": level, "parent_code": parent})
            elif existing.name != name:
                assert existing.pk is not None
                self.updates.append((existing.pk, name))
            else:
                self.counts.unchanged += 1

    def apply(self, errors: Errors) -> Counts:
        services.units_upsert(creates=self.creates, renames=self.updates)
        self.counts.created, self.counts.updated = len(self.creates), len(self.updates)
        return self.counts


# --- grids ---------------------------------------------------------------------------------------------

GRID_FIELD_COLUMNS = {"code": "code", "tier": "tier", "parent": "parent", "village": "village"}


class GridsImporter(Importer):
    kind = "grids"
    label = "网格"
    admin_only = True
    columns = (
        Column(
            "code",
            "网格编码",
            digits((15, 17), "网格编码"),
            required=True,
            help="村/社区12位区划代码 + 3位序号；微网格再加2位序号（共17位）",
            example="500152001001001",
            text_format=True,
            width=20,
        ),
        Column("name", "网格名称", text(64), required=True, example="大佛社区第1网格", width=22),
        Column(
            "village",
            "所属村/社区代码",
            digits(12, "所属村/社区代码"),
            required=True,
            help="12位区划代码，须已在系统中（先导入行政区划）",
            example="500152001001",
            text_format=True,
        ),
        Column(
            "tier",
            "网格层级",
            choice(TIERS, "网格层级"),
            help="总网格、一般网格 或 微网格；留空为一般网格",
            example="一般网格",
            choices=tuple(TIERS),
        ),
        Column(
            "parent",
            "上级网格编码",
            digits(15, "上级网格编码"),
            help="微网格必填（其所属一般网格）；一般网格可填所属总网格",
            text_format=True,
            width=20,
        ),
        Column(
            "kind",
            "网格类型",
            choice(KINDS, "网格类型"),
            help="城市社区网格、农村网格 或 专属网格；留空为城市社区网格",
            example="城市社区网格",
            choices=tuple(KINDS),
        ),
        Column("households", "户数", count(100_000), help="整数", example=320),
        Column("population", "人口", count(1_000_000), help="整数", example=860),
        Column("active", "是否启用", yes_no, help="是 或 否；留空为是", example="是", choices=("是", "否")),
    )
    key_columns = ("code",)
    notes = (
        "按网格编码识别：已有的网格更新，没有的新增；重复导入同一文件不会产生任何变化。",
        "网格边界请在“网格边界导入”中用 GeoJSON 导入；新增的网格在导入边界前不参与按位置定位。",
        BLANK_KEEPS,
    )

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        codes = {r.values.get("code") for r in rows} | {r.values.get("parent") for r in rows}
        units = {
            u.code: u
            for u in AdminUnit.objects.filter(
                code__in={r.values.get("village") for r in rows}
            ).select_related("parent__parent")
        }
        grids = {g.code: g for g in Grid.objects.filter(code__in=codes - {None}).select_related("parent")}
        in_file = {r.values["code"]: r for r in rows if r.values.get("code")}
        self.plan: list[tuple[Row, Grid | None, dict[str, Any]]] = []
        for row in self.sound(rows, errors):
            v = row.values
            village = units.get(v["village"])
            if village is None:
                errors.add(
                    row, self.header("village"), f"村/社区 {v['village']} 不在系统中，请先导入行政区划"
                )
                continue
            existing = grids.get(v["code"])
            tier = v.get("tier") or (existing.tier if existing else GridTier.GENERAL)
            parent_ref: ParentRef | None = None
            parent_code = v.get("parent")
            if not parent_code and existing is not None and existing.parent is not None:
                parent_code = existing.parent.code
                grids.setdefault(parent_code, existing.parent)
            if parent_code:
                if parent_code in in_file and in_file[parent_code].values.get("village"):
                    parent_row = in_file[parent_code].values
                    parent_village = units.get(parent_row["village"])
                    parent_ref = ParentRef(
                        parent_code,
                        parent_row.get("tier") or GridTier.GENERAL,
                        parent_village.pk if parent_village else None,
                    )
                elif parent_code in grids:
                    parent_grid = grids[parent_code]
                    parent_ref = ParentRef(parent_code, parent_grid.tier, parent_grid.village_id)
                else:
                    errors.add(row, self.header("parent"), f"上级网格 {parent_code} 在文件和系统中都不存在")
                    continue
            problems = placement_errors(code=v["code"], tier=tier, village=village, parent=parent_ref)
            for field_name, message in problems.items():
                errors.add(row, self.header(GRID_FIELD_COLUMNS.get(field_name, "code")), message)
            if problems:
                continue
            town = village.parent
            ancestors = [village.pk, town.pk if town else None, town.parent_id if town else None]
            if town is not None and town.parent is not None:
                ancestors.append(town.parent.parent_id)
            if not self.scope.covers(ancestors):
                errors.add(row, self.header("code"), self.scope.refusal())
                continue
            wanted = {
                "name": v["name"],
                "tier": tier,
                "kind": v.get("kind"),
                "households": v.get("households"),
                "population": v.get("population"),
                "active": v.get("active"),
                "parent_code": parent_code,
            }
            if existing is not None:
                current = {
                    "name": existing.name,
                    "tier": existing.tier,
                    "kind": existing.kind,
                    "households": existing.households,
                    "population": existing.population,
                    "active": existing.active,
                    "parent_code": existing.parent.code if existing.parent else None,
                }
                if not changed_fields(current, wanted):
                    self.counts.unchanged += 1
                    continue
            wanted["village"] = village
            self.plan.append((row, existing, wanted))

    def apply(self, errors: Errors) -> Counts:
        # Parents first: 总网格, then 一般网格, then 微网格.
        order = {GridTier.TOTAL: 0, GridTier.GENERAL: 1, GridTier.MICRO: 2}
        for row, existing, wanted in sorted(self.plan, key=lambda p: order[p[2]["tier"]]):
            try:
                created = services.grid_upsert(
                    actor=self.user, code=row.values["code"], existing=existing, values=wanted
                )
            except DomainError as exc:
                for field_name, message in getattr(exc, "errors", {"code": exc.message}).items():
                    errors.add(row, self.header(GRID_FIELD_COLUMNS.get(field_name, "code")), message)
                continue
            if created:
                self.counts.created += 1
            else:
                self.counts.updated += 1
        return self.counts


# --- departments ---------------------------------------------------------------------------------------


class DepartmentsImporter(Importer):
    kind = "departments"
    label = "部门"
    admin_only = True
    columns = (
        Column("code", "部门编码", text(32), required=True, help="系统内唯一，如 GA", example="GA"),
        Column("name", "部门名称", text(64), required=True, example="区公安分局", width=22),
        Column(
            "unit",
            "所属区划代码",
            digits(12, "所属区划代码"),
            required=True,
            help="部门所在层级的12位区划代码（区县、镇街等），须已在系统中",
            example="500152000000",
            text_format=True,
        ),
        Column("phone", "值班电话", phone, help="手机或固定电话，如 023-44556677", example="023-44556677"),
        Column("active", "是否启用", yes_no, help="是 或 否；留空为是", example="是", choices=("是", "否")),
    )
    key_columns = ("code",)
    notes = ("按部门编码识别：已有的部门更新，没有的新增；重复导入同一文件不会产生任何变化。", BLANK_KEEPS)

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        units = {
            u.code: u
            for u in AdminUnit.objects.filter(code__in={r.values.get("unit") for r in rows}).select_related(
                "parent__parent__parent"
            )
        }
        existing = {
            d.code: d for d in Department.objects.filter(code__in={r.values.get("code") for r in rows})
        }
        self.creates: list[Department] = []
        self.updates: list[Department] = []
        for row in self.sound(rows, errors):
            v = row.values
            unit = units.get(v["unit"])
            if unit is None:
                errors.add(row, self.header("unit"), f"区划 {v['unit']} 不在系统中")
                continue
            wanted = {
                "name": v["name"],
                "unit_id": unit.pk,
                "phone": v.get("phone"),
                "active": v.get("active"),
            }
            current = existing.get(v["code"])
            if current is None:
                wanted["phone"] = wanted["phone"] or ""
                wanted["active"] = True if wanted["active"] is None else wanted["active"]
                self.creates.append(Department(code=v["code"], **wanted))
                continue
            fields = changed_fields({k: getattr(current, k) for k in wanted}, wanted)
            if not fields:
                self.counts.unchanged += 1
                continue
            for name in fields:
                setattr(current, name, wanted[name])
            self.updates.append(current)

    def apply(self, errors: Errors) -> Counts:
        services.departments_upsert(creates=self.creates, updates=self.updates)
        self.counts.created, self.counts.updated = len(self.creates), len(self.updates)
        return self.counts
