"""Staff assignments (who serves which grid in which role, from when to when), written through
``people.services`` so history, overlap rules and grid access work exactly as on the pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import DomainError
from dualgrid.lib.idcard import parse_id
from dualgrid.people import services as people
from dualgrid.people.models import Assignment, Gender, PostName, Staff, StaffRole

from .base import Column, Counts, Errors, Importer, Row
from .grids import GRID_COLUMN, GridIndex
from .parsers import gender, id_number, phone, plausible_date, text

DEFAULT_END_REASON = "Excel导入登记离任"
SERVICE_FIELDS = {
    "start_date": "start",
    "end_date": "end",
    "staff": "id_number",
    "id_number": "id_number",
    "name": "name",
    "gender": "gender",
    "phone": "phone",
    "grid": "grid",
    "role": "role",
    "post_name": "post_name",
    "note": "note",
    "reason": "end_reason",
}


def role_names() -> list[str]:
    return list(StaffRole.objects.filter(active=True).values_list("name", flat=True))


def post_names() -> list[str]:
    return list(PostName.objects.filter(active=True).values_list("name", flat=True))


class AssignmentsImporter(Importer):
    kind = "assignments"
    label = "网格人员任职"
    columns = (
        Column("name", "姓名", text(32), required=True, example="陈俊光"),
        Column(
            "id_number",
            "身份证号",
            id_number,
            required=True,
            help="18位居民身份证号，用于识别同一个人；请将该列设为文本格式",
            example="500101198505052313",
            text_format=True,
            width=22,
        ),
        Column("gender", "性别", gender, help="男 或 女；留空按身份证号判断", choices=("男", "女")),
        Column("phone", "手机号", phone, help="新登记人员时保存", example="13912345678", text_format=True),
        GRID_COLUMN,
        Column(
            "role",
            "角色",
            text(32),
            required=True,
            help="如 网格长、专职网格员",
            example="专职网格员",
            choices=role_names,
        ),
        Column("post_name", "统一岗位名称", text(64), help="可留空", choices=post_names, width=18),
        Column(
            "start", "任职日期", plausible_date, required=True, help="如 2024-03-01", example="2024-03-01"
        ),
        Column("end", "离任日期", plausible_date, help="离任的第一天；仍在任留空"),
        Column("end_reason", "离任原因", text(200), help="填写离任日期时可填"),
        Column("note", "备注", text(200), width=24),
    )
    key_columns = ("id_number", "grid", "role", "start")
    notes = (
        "按“身份证号+网格编码+角色+任职日期”识别一条任职：已有的不重复登记，重复导入同一文件不会产生任何变化。",
        "已有任职只能通过导入补登离任日期；其他修改和人员替换请在网格人员页面操作。",
        "同一人在同一网格同一角色的任职期间不能重叠。身份证号未登记过的人员会新登记为网格人员。",
    )

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        sound = self.sound(rows, errors)
        grids = GridIndex(self.scope, codes=(r.values.get("grid") for r in sound))
        roles = {r.name: r for r in StaffRole.objects.all()}
        posts = {p.name: p for p in PostName.objects.all()}
        hashes = {keyed_hash(r.values["id_number"]) for r in sound}
        staff = {s.id_number_hash: s for s in Staff.objects.filter(id_number_hash__in=hashes)}
        held = {
            (a.staff_id, a.grid_id, a.role_id, a.start_date): a
            for a in Assignment.objects.filter(staff__in=staff.values()).select_related(
                "staff", "grid", "role"
            )
        }
        periods: dict[tuple[str, int, int], list[tuple[date, date | None, int]]] = defaultdict(list)
        self.plan: list[tuple[Row, dict[str, Any]]] = []
        # A new person's phone and gender may be on any of their rows.
        self.details: dict[str, dict[str, str]] = defaultdict(dict)
        for row in sound:
            for key in ("gender", "phone"):
                if row.values.get(key):
                    self.details[keyed_hash(row.values["id_number"])].setdefault(key, row.values[key])
        for row in sound:
            v = row.values
            grid = grids.resolve(row, errors)
            role = roles.get(v["role"])
            if role is None:
                errors.add(
                    row, self.header("role"), f"没有这个角色：{v['role']}（可选：{'、'.join(role_names())}）"
                )
            post = posts.get(v["post_name"]) if v.get("post_name") else None
            if v.get("post_name") and post is None:
                errors.add(row, self.header("post_name"), f"没有这个岗位名称：{v['post_name']}")
            card = parse_id(v["id_number"])
            if v.get("gender") and v["gender"] != (Gender.MALE if card.male else Gender.FEMALE):
                errors.add(row, self.header("gender"), "性别与身份证号不一致")
                continue
            start, end = v["start"], v.get("end")
            if end is not None and end < start:
                errors.add(row, self.header("end"), "离任日期不能早于任职日期")
                continue
            if grid is None or role is None or (v.get("post_name") and post is None):
                continue
            id_hash = keyed_hash(v["id_number"])
            person = staff.get(id_hash)
            if person is not None and person.name != v["name"]:
                errors.add(row, self.header("name"), f"该身份证号已登记为“{person.name}”，与姓名不符")
                continue
            for other_start, other_end, other_row in periods[(id_hash, grid.pk, role.pk)]:
                if start < (other_end or date.max) and other_start < (end or date.max):
                    errors.add(row, self.header("start"), f"与第{other_row}行的任职期间重叠")
                    break
            periods[(id_hash, grid.pk, role.pk)].append((start, end, row.number))
            current = held.get((person.pk, grid.pk, role.pk, start)) if person is not None else None
            if current is not None:
                if current.end_date == end or end is None:
                    self.counts.unchanged += 1
                    continue
                if current.end_date is not None:
                    errors.add(
                        row,
                        self.header("end"),
                        f"该任职已于{current.end_date:%Y-%m-%d}结束，导入不能修改已结束的任职",
                    )
                    continue
            self.plan.append(
                (
                    row,
                    {
                        "hash": id_hash,
                        "person": person,
                        "grid_id": grid.pk,
                        "role": role,
                        "post": post,
                        "current": current,
                    },
                )
            )

    def apply(self, errors: Errors) -> Counts:
        from dualgrid.places.models import Grid

        grids = {g.pk: g for g in Grid.objects.filter(pk__in={p["grid_id"] for _, p in self.plan})}
        people_by_hash: dict[str, Staff] = {}
        for row, plan in sorted(self.plan, key=lambda item: item[0].values["start"]):
            v = row.values
            try:
                if plan["current"] is not None:
                    people.assignment_end(
                        actor=self.user,
                        assignment=plan["current"],
                        end=v["end"],
                        reason=v.get("end_reason") or DEFAULT_END_REASON,
                    )
                    self.counts.updated += 1
                    continue
                person: Staff | people.StaffInput | None = plan["person"] or people_by_hash.get(plan["hash"])
                if person is None:
                    details = self.details.get(plan["hash"], {})
                    person = people.StaffInput(
                        name=v["name"],
                        gender=details.get("gender", ""),
                        phone=details.get("phone", ""),
                        id_number=v["id_number"],
                    )
                assignment = people.assignment_start(
                    actor=self.user,
                    staff=person,
                    grid=grids[plan["grid_id"]],
                    role=plan["role"],
                    start=v["start"],
                    post_name=plan["post"],
                    note=v.get("note") or "",
                )
                people_by_hash[plan["hash"]] = assignment.staff
                if v.get("end") is not None:
                    people.assignment_end(
                        actor=self.user,
                        assignment=assignment,
                        end=v["end"],
                        reason=v.get("end_reason") or DEFAULT_END_REASON,
                    )
                self.counts.created += 1
            except DomainError as exc:
                for field_name, message in getattr(exc, "errors", {"": exc.message}).items():
                    errors.add(row, self.header(SERVICE_FIELDS.get(field_name, "start")), message)
        return self.counts
