"""Exports of list pages to .xlsx: the user's filters applied by the caller's selector, personal data
masked unless the user may see it and asked for it, and an audit row for every export."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.services import audit_record
from dualgrid.lib.errors import Forbidden, Invalid
from dualgrid.lib.idcard import mask_id
from dualgrid.lib.privacy import mask_name, mask_phone

from .xlsx import column_letter

UNMASKING_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})
DEFAULT_MAX_ROWS = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="10457F")
MASKS: dict[str, Callable[[str], str]] = {"phone": mask_phone, "id": mask_id, "name": mask_name}


@dataclass(frozen=True)
class ExportColumn:
    header: str
    value: Callable[[Any], Any]
    # "phone", "id" or "name": masked unless the export is unmasked.
    personal: str = ""
    width: int = 16


def export_max_rows() -> int:
    return int(settings.DUALGRID.get("EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def may_unmask(user: User) -> bool:
    return user.is_superuser or user.role in UNMASKING_ROLES


def _local(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _rows(
    rows_spec: Sequence[ExportColumn], objects: Iterator[Any], unmasked: bool, ws: Any
) -> Iterator[list[Any]]:
    for obj in objects:
        row: list[Any] = []
        for column in rows_spec:
            value = column.value(obj)
            if column.personal and not unmasked and value:
                value = MASKS[column.personal](str(value))
            value = _local(value)
            if isinstance(value, datetime | date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
                value = cell
            row.append("" if value is None else value)
        yield row


def export_xlsx(
    *,
    user: User,
    rows_spec: Sequence[ExportColumn],
    queryset: QuerySet[Any] | Sequence[Any],
    filename: str,
    object_type: str,
    filters: dict[str, Any] | None = None,
    unmasked: bool = False,
) -> HttpResponse:
    """The rows of ``queryset`` (already scoped and filtered by the caller's selector; or a list, such
    as the visit due list) as an .xlsx
    download. Personal columns are masked unless ``unmasked`` — which only administrators and
    dispatchers may ask for (else Forbidden). Every export writes an audit row."""
    if unmasked and not may_unmask(user):
        raise Forbidden("您的角色不能导出未脱敏的个人信息")
    limit = export_max_rows()
    total = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
    if total > limit:
        raise Invalid({"export": f"共 {total} 条，超过单次导出上限 {limit} 条，请缩小筛选范围后分批导出"})
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(filename.rsplit(".", 1)[0][:31])
    ws.freeze_panes = "A2"
    for index, column in enumerate(rows_spec):
        ws.column_dimensions[column_letter(index)].width = column.width
    header = []
    for column in rows_spec:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        header.append(cell)
    ws.append(header)
    objects = queryset.iterator(chunk_size=2000) if isinstance(queryset, QuerySet) else iter(queryset)
    count = 0
    for row in _rows(rows_spec, objects, unmasked, ws):
        ws.append(row)
        count += 1
    with tempfile.TemporaryFile() as out:
        wb.save(out)
        out.seek(0)
        content = out.read()
    detail = json.dumps(
        {
            "filters": {k: v for k, v in (filters or {}).items() if v not in (None, "", [])},
            "rows": count,
            "masked": not unmasked,
        },
        ensure_ascii=False,
        default=str,
    )
    with transaction.atomic():
        audit_record(user=user, action="export", object_type=object_type, detail=detail)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{filename.rsplit('.', 1)[0]}-{stamp}.xlsx"
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


# --- what each list exports ------------------------------------------------------------------------


def _handling_unit(case: Any) -> str:
    if case.assigned_grid is not None:
        return str(case.assigned_grid.name)
    if case.assigned_department is not None:
        return str(case.assigned_department.name)
    return ""


CASE_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("事件编号", lambda c: c.number, width=20),
    ExportColumn("标题", lambda c: c.title, width=30),
    ExportColumn("状态", lambda c: c.get_status_display(), width=10),
    ExportColumn("分类", lambda c: c.category.name if c.category else "", width=16),
    ExportColumn("紧急程度", lambda c: c.get_urgency_display(), width=10),
    ExportColumn("来源渠道", lambda c: c.get_channel_display(), width=12),
    ExportColumn("所在网格", lambda c: c.grid.name if c.grid else "", width=20),
    ExportColumn("承办单位", _handling_unit, width=20),
    ExportColumn("反映人", lambda c: c.reporter_name, personal="name", width=10),
    ExportColumn("联系电话", lambda c: c.reporter_phone, personal="phone", width=16),
    ExportColumn("地址", lambda c: c.address, width=30),
    ExportColumn("登记时间", lambda c: c.created_at, width=18),
    ExportColumn("办结时限", lambda c: c.resolve_due_at, width=18),
    ExportColumn("时限状态", lambda c: c.get_deadline_state_display(), width=10),
    ExportColumn("办结时间", lambda c: c.resolved_at, width=18),
    ExportColumn("评价", lambda c: c.get_rating_display(), width=10),
)


def _tags(resident: Any) -> str:
    return "、".join(t.tag.name for t in resident.tags.all())


RESIDENT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda r: r.grid.code, width=20),
    ExportColumn("网格", lambda r: r.grid.name, width=20),
    ExportColumn("姓名", lambda r: r.name, width=10),
    ExportColumn("性别", lambda r: r.get_gender_display(), width=6),
    ExportColumn("出生日期", lambda r: r.birth_date, width=12),
    ExportColumn("身份证号", lambda r: r.id_number, personal="id", width=22),
    ExportColumn("手机号", lambda r: r.phone, personal="phone", width=16),
    ExportColumn("民族", lambda r: r.ethnicity, width=8),
    ExportColumn("现住址", lambda r: r.address, width=28),
    ExportColumn("户地址", lambda r: r.household.address if r.household else "", width=24),
    ExportColumn("门牌号", lambda r: r.household.house_number if r.household else "", width=12),
    ExportColumn("户主", lambda r: r.household.head_name if r.household else "", width=10),
    ExportColumn("人员标签", _tags, width=24),
    ExportColumn("备注", lambda r: r.notes, width=24),
)


def _current_posts(staff: Any) -> str:
    return "；".join(f"{a.grid.name}·{a.role.name}" for a in getattr(staff, "current", []))


STAFF_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("姓名", lambda s: s.name, width=10),
    ExportColumn("性别", lambda s: s.get_gender_display(), width=6),
    ExportColumn("身份证号", lambda s: s.id_number, personal="id", width=22),
    ExportColumn("手机号", lambda s: s.phone, personal="phone", width=16),
    ExportColumn("现任网格与角色", _current_posts, width=40),
    ExportColumn("登录账号", lambda s: s.user.username if s.user else "", width=14),
    ExportColumn("在册", lambda s: "是" if s.active else "否", width=6),
)


# --- the register ------------------------------------------------------------------------------------


def _members(household: Any) -> str:
    return "、".join(r.name for r in household.members.all())


def _members_tagged(household: Any) -> str:
    return "；".join(
        f"{r.name}：{'、'.join(t.tag.name for t in r.tags.all())}"
        for r in household.members.all()
        if r.tags.all()
    )


HOUSEHOLD_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda h: h.grid.code, width=20),
    ExportColumn("网格", lambda h: h.grid.name, width=20),
    ExportColumn("村/社区", lambda h: h.grid.village.name, width=14),
    ExportColumn("地址", lambda h: h.address, width=28),
    ExportColumn("门牌号", lambda h: h.house_number, width=10),
    ExportColumn("户主", lambda h: h.head_name, width=10),
    ExportColumn("成员数", lambda h: h.member_count, width=8),
    ExportColumn("成员", _members, width=30),
    ExportColumn("重点人群", _members_tagged, width=36),
    ExportColumn("登记时间", lambda h: h.created_at, width=18),
)

RENTAL_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda h: h.grid.code, width=20),
    ExportColumn("网格", lambda h: h.grid.name, width=20),
    ExportColumn("地址", lambda h: h.address, width=30),
    ExportColumn("房东姓名", lambda h: h.landlord_name, width=10),
    ExportColumn("房东电话", lambda h: h.landlord_phone, personal="phone", width=16),
    ExportColumn("租住人数", lambda h: h.tenants, width=8),
    ExportColumn("备注", lambda h: h.note, width=24),
)

BUSINESS_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda b: b.grid.code, width=20),
    ExportColumn("网格", lambda b: b.grid.name, width=20),
    ExportColumn("名称", lambda b: b.name, width=24),
    ExportColumn("类别", lambda b: b.get_category_display(), width=10),
    ExportColumn("地址", lambda b: b.address, width=30),
    ExportColumn("统一社会信用代码/执照号", lambda b: b.licence_no, width=22),
    ExportColumn("联系人", lambda b: b.contact_name, width=10),
    ExportColumn("联系电话", lambda b: b.contact_phone, personal="phone", width=16),
)

KEY_PLACE_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda p: p.grid.code, width=20),
    ExportColumn("网格", lambda p: p.grid.name, width=20),
    ExportColumn("名称", lambda p: p.name, width=24),
    ExportColumn("类别", lambda p: p.get_kind_display(), width=10),
    ExportColumn("地址", lambda p: p.address, width=30),
    ExportColumn("联系人", lambda p: p.contact_name, width=10),
    ExportColumn("联系电话", lambda p: p.contact_phone, personal="phone", width=16),
)


def _visit_rule(item: Any) -> str:
    return "每周" if item.rule.weekly else f"每{item.rule.period}天"


VISIT_DUE_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格", lambda i: i.resident.grid.name, width=20),
    ExportColumn("姓名", lambda i: i.resident.name, width=10),
    ExportColumn("性别", lambda i: i.resident.get_gender_display(), width=6),
    ExportColumn("出生日期", lambda i: i.resident.birth_date, width=12),
    ExportColumn("手机号", lambda i: i.resident.phone, personal="phone", width=16),
    ExportColumn(
        "住址",
        lambda i: i.resident.address or (str(i.resident.household) if i.resident.household else ""),
        width=28,
    ),
    ExportColumn("人员标签", lambda i: "、".join(t.tag.name for t in i.tags), width=24),
    ExportColumn("走访要求", _visit_rule, width=10),
    ExportColumn("状态", lambda i: i.status.label, width=10),
    ExportColumn("走访截止日期", lambda i: i.status.due_on, width=14),
    ExportColumn("上次走访", lambda i: i.last_visit, width=18),
)


# --- places ------------------------------------------------------------------------------------------

GRID_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("网格编码", lambda g: g.code, width=20),
    ExportColumn("网格名称", lambda g: g.name, width=22),
    ExportColumn("层级", lambda g: g.get_tier_display(), width=10),
    ExportColumn("类型", lambda g: g.get_kind_display(), width=12),
    ExportColumn("上级网格", lambda g: g.parent.name if g.parent else "", width=20),
    ExportColumn("村/社区", lambda g: g.village.name, width=14),
    ExportColumn("镇街", lambda g: g.town.name, width=12),
    ExportColumn("户数", lambda g: g.households, width=8),
    ExportColumn("人口", lambda g: g.population, width=8),
    ExportColumn("网格群", lambda g: g.group_count, width=8),
    ExportColumn("入群人数", lambda g: g.member_sum or 0, width=10),
)

CHAT_GROUP_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("镇街", lambda c: c.grid.town.name if c.grid else "", width=12),
    ExportColumn("村/社区", lambda c: c.grid.village.name if c.grid else "", width=14),
    ExportColumn("网格编码", lambda c: c.grid.code if c.grid else "", width=20),
    ExportColumn("所属网格", lambda c: c.grid.name if c.grid else "（未关联网格）", width=20),
    ExportColumn("平台", lambda c: c.get_platform_display(), width=8),
    ExportColumn("群名称", lambda c: c.name, width=26),
    ExportColumn("群号/群ID", lambda c: c.external_id, width=18),
    ExportColumn("群成员数", lambda c: c.member_count, width=10),
    ExportColumn("群主", lambda c: c.owner_name, width=10),
    ExportColumn("群主手机号", lambda c: c.owner_phone, personal="phone", width=16),
    ExportColumn("更新时间", lambda c: c.updated_at, width=18),
)
