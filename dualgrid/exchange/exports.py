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
from django.db.models import Model, QuerySet
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
    queryset: QuerySet[Any] | Sequence[Model],
    filename: str,
    object_type: str,
    filters: dict[str, Any] | None = None,
    unmasked: bool = False,
) -> HttpResponse:
    """The rows of ``queryset`` (already scoped and filtered by the caller's selector) as an .xlsx
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
