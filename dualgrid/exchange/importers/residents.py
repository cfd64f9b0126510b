"""实有人口 with their households and tags, keyed by the ID number's keyed hash.

Built for whole registers (100,000 rows): everything the checks need is fetched in a few chunked
queries into dicts, each ID number is parsed and hashed once, and the writes are bulk operations
(``services.residents_apply``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils import timezone

from dualgrid.lib.crypto import keyed_hash
from dualgrid.people.models import Concern, Gender, Household, Resident, ResidentTag, Tag

from .. import services
from .base import Column, Counts, Errors, Importer, Row
from .grids import GRID_COLUMN, GridIndex
from .parsers import CellError, choice, gender, id_number, name_list, past_date, phone, text, yes_no

CHUNK = 2000
LEVELS = {label: value for value, label in Concern.choices}
RESIDENT_FIELDS = ("grid_id", "name", "gender", "birth_date", "phone_hash", "ethnicity", "address", "notes")


def tag_names() -> list[str]:
    return list(
        Tag.objects.filter(active=True).order_by("group", "sort", "code").values_list("name", flat=True)
    )


def tags_cell(value: Any) -> list[str]:
    names = name_list(value)
    if not names:
        raise CellError("标签格式不对")
    return names


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class ResidentsImporter(Importer):
    kind = "residents"
    label = "实有人口（含户）"
    columns = (
        GRID_COLUMN,
        Column("name", "姓名", text(32), required=True, example="张三"),
        Column(
            "id_number",
            "身份证号",
            id_number,
            required=True,
            help="18位居民身份证号（含校验位），用于识别同一个人；请将该列设为文本格式",
            example="500101199001011117",
            text_format=True,
            width=22,
        ),
        Column(
            "gender", "性别", gender, help="男 或 女；留空按身份证号判断", example="男", choices=("男", "女")
        ),
        Column(
            "birth_date",
            "出生日期",
            past_date,
            help="如 1990-01-01；留空按身份证号判断",
            example="1990-01-01",
        ),
        Column(
            "phone", "手机号", phone, help="11位手机号或固定电话", example="13812345678", text_format=True
        ),
        Column("ethnicity", "民族", text(16), example="汉族"),
        Column("address", "现住址", text(200), example="大佛社区3栋2单元501", width=28),
        Column(
            "household_address",
            "户地址",
            text(200),
            help="同一网格内“户地址+门牌号”相同的人属于同一户；留空则不归户",
            example="大佛社区3栋",
            width=24,
        ),
        Column("house_number", "门牌号", text(32), example="2单元501"),
        Column(
            "is_head",
            "是否户主",
            yes_no,
            help="是 或 否；户主的姓名记为户主姓名",
            example="是",
            choices=("是", "否"),
        ),
        Column(
            "tags",
            "人员标签",
            tags_cell,
            help="关爱对象、特殊人群、重点青少年的标签名称，多个用顿号（、）分隔；导入只新增标签，不删除已有标签",
            example="空巢(独居)老人",
            choices=tag_names,
            free_choices=True,
            width=24,
        ),
        Column(
            "level",
            "关注程度",
            choice(LEVELS, "关注程度"),
            help="一般、中等 或 严重，适用于本行所有标签；留空为一般",
            choices=tuple(LEVELS),
        ),
        Column("notes", "备注", text(2000), width=24),
    )
    key_columns = ("id_number",)
    notes = (
        "按身份证号识别同一个人：系统中已有的更新，没有的新增；重复导入同一文件不会产生任何变化。",
        "选填列留空：新增时为空，更新时保留系统中的原值。",
        "导入的人员只能在您管辖范围内的网格；已登记在范围外网格的人员不能通过导入修改。",
    )

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        sound = self.sound(rows, errors)
        grids = GridIndex(self.scope, codes=(r.values.get("grid") for r in sound))
        tags = {t.name: t for t in Tag.objects.filter(active=True)}
        today_tags: list[tuple[str, int, str]] = []  # (id hash, tag id, level)
        # Pass 1: per-row checks, hashes.
        ready: list[tuple[Row, int, str, dict[str, Any]]] = []
        for row in sound:
            v = row.values
            grid = grids.resolve(row, errors)
            number = v["id_number"]  # already checked by the parser (checksum, birth date)
            card_gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
            card_birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            ok = grid is not None
            if v.get("gender") and v["gender"] != card_gender:
                errors.add(row, self.header("gender"), "性别与身份证号不一致")
                ok = False
            if v.get("birth_date") and v["birth_date"] != card_birth:
                errors.add(
                    row,
                    self.header("birth_date"),
                    f"出生日期与身份证号不一致（身份证号为{card_birth:%Y-%m-%d}）",
                )
                ok = False
            unknown = [n for n in v.get("tags") or () if n not in tags]
            if unknown:
                errors.add(
                    row, self.header("tags"), f"没有这些标签：{'、'.join(unknown)}（可选标签见模板的“说明”）"
                )
                ok = False
            if v.get("is_head") and not v.get("household_address"):
                errors.add(row, self.header("household_address"), "户主须填写户地址")
                ok = False
            if not ok or grid is None:
                continue
            id_hash = keyed_hash(v["id_number"])
            wanted: dict[str, Any] = {
                "grid_id": grid.pk,
                "name": v["name"],
                "gender": card_gender,
                "birth_date": card_birth,
                "id_number": v["id_number"],
                "phone": v.get("phone"),
                "phone_hash": keyed_hash(v["phone"]) if v.get("phone") else None,
                "ethnicity": v.get("ethnicity"),
                "address": v.get("address"),
                "notes": v.get("notes"),
            }
            ready.append((row, grid.pk, id_hash, wanted))
            level = v.get("level") or Concern.NORMAL
            for name in v.get("tags") or ():
                today_tags.append((id_hash, tags[name].pk, level))

        # Existing residents, households and tags. Long IN lists of hashes are slow (2,000 index
        # probes a query); when the file covers most of its grids' residents, reading those grids
        # whole is several times faster, and only people registered elsewhere are looked up by hash.
        hashes = [h for _, _, h, _ in ready]
        grid_ids = sorted({g for _, g, _, _ in ready})
        fields = ("pk", "id_number_hash", "household_id", *RESIDENT_FIELDS)
        existing: dict[str, dict[str, Any]] = {}
        by_grid = Resident.objects.filter(grid_id__in=grid_ids).count() <= 2 * len(hashes) + CHUNK
        if by_grid:
            for values in Resident.objects.filter(grid_id__in=grid_ids).values(*fields).iterator(CHUNK):
                existing[values["id_number_hash"]] = values
        elsewhere = [h for h in hashes if h not in existing]
        for chunk in _chunks(elsewhere):
            for values in Resident.objects.filter(id_number_hash__in=chunk).values(*fields):
                existing[values["id_number_hash"]] = values
        grids.include_ids(r["grid_id"] for r in existing.values())
        households: dict[tuple[int, str, str], dict[str, Any]] = {}
        for values in Household.objects.filter(grid_id__in=grid_ids).values(
            "pk", "grid_id", "address", "house_number", "head_name"
        ):
            households.setdefault(
                (values["grid_id"], values["address"], values["house_number"]), dict(values)
            )
        held: dict[tuple[int, int], str] = {}
        # Ended tags are history: a row naming one again opens a new period.
        tag_rows = ResidentTag.objects.filter(ended_on__isnull=True).values_list(
            "resident_id", "tag_id", "level"
        )
        if by_grid:
            for resident_id, tag_id, level in tag_rows.filter(resident__grid_id__in=grid_ids).iterator(CHUNK):
                held[(resident_id, tag_id)] = level
        in_grids = set(grid_ids) if by_grid else set()
        outside = [r["pk"] for r in existing.values() if r["grid_id"] not in in_grids]
        for chunk in _chunks(outside):
            for resident_id, tag_id, level in tag_rows.filter(resident_id__in=chunk):
                held[(resident_id, tag_id)] = level

        # Pass 2: households (one head each), then the plan per resident.
        heads: dict[tuple[int, str, str], Row] = {}
        new_households: dict[tuple[int, str, str], str] = {}
        head_updates: dict[int, str] = {}
        self.creates: list[dict[str, Any]] = []
        self.create_households: list[tuple[int, str, str] | None] = []
        self.updates: list[tuple[int, dict[str, Any], tuple[int, str, str] | None]] = []
        for row, grid_id, id_hash, wanted in ready:
            v = row.values
            current = existing.get(id_hash)
            if current is not None and not grids.writable(current["grid_id"]):
                errors.add(
                    row, self.header("id_number"), "该居民已登记在您管辖范围以外的网格，不能通过导入修改"
                )
                continue
            house_key = (
                (grid_id, v["household_address"], v.get("house_number") or "")
                if v.get("household_address")
                else None
            )
            if house_key is not None:
                if v.get("is_head"):
                    if house_key in heads:
                        errors.add(
                            row, self.header("is_head"), f"同一户已有户主（第{heads[house_key].number}行）"
                        )
                        continue
                    heads[house_key] = row
                known = households.get(house_key)
                if known is None:
                    head = new_households.get(house_key, "")
                    new_households[house_key] = v["name"] if v.get("is_head") else head
                elif v.get("is_head") and known["head_name"] != v["name"]:
                    head_updates[known["pk"]] = v["name"]
            if current is None:
                values = {k: ("" if val is None else val) for k, val in wanted.items()}
                values["birth_date"] = wanted["birth_date"]
                values["id_number_hash"] = id_hash
                self.creates.append(values)
                self.create_households.append(house_key)
                continue
            changed = {
                k: wanted[k]
                for k in RESIDENT_FIELDS
                if wanted.get(k) is not None and current.get(k) != wanted[k]
            }
            if "phone_hash" in changed:
                changed["phone"] = wanted["phone"]
            household_id: int | None = households[house_key]["pk"] if house_key in households else None
            moves_household = house_key is not None and (
                household_id is None or household_id != current["household_id"]
            )
            if changed or moves_household:
                self.updates.append((current["pk"], changed, house_key))
            else:
                self.counts.unchanged += 1
        self.new_households = new_households
        self.head_updates = head_updates
        self.households = {k: v["pk"] for k, v in households.items()}
        existing_pk = {h: r["pk"] for h, r in existing.items()}
        self.tag_creates: list[tuple[str, int, str]] = []
        self.tag_levels: list[tuple[int, int, str]] = []
        updated = {pk for pk, _, _ in self.updates}
        for id_hash, tag_id, level in today_tags:
            holder = existing_pk.get(id_hash)
            if holder is None:
                self.tag_creates.append((id_hash, tag_id, level))
            elif (holder, tag_id) not in held:
                self.tag_creates.append((id_hash, tag_id, level))
                updated.add(holder)
            elif held[(holder, tag_id)] != level:
                self.tag_levels.append((holder, tag_id, level))
                updated.add(holder)
        # A resident whose only change is a tag counts as updated, not unchanged.
        tag_only = updated - {pk for pk, _, _ in self.updates}
        self.counts.unchanged -= len(tag_only)
        self.tag_only_updates = len(tag_only)

    def apply(self, errors: Errors) -> Counts:
        services.residents_apply(
            creates=self.creates,
            create_households=self.create_households,
            updates=self.updates,
            new_households=self.new_households,
            head_updates=self.head_updates,
            households=self.households,
            tag_creates=self.tag_creates,
            tag_levels=self.tag_levels,
            since=timezone.localdate(),
        )
        self.counts.created = len(self.creates)
        self.counts.updated = len(self.updates) + self.tag_only_updates
        return self.counts
