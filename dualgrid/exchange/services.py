"""Writes of the Excel exchange: import jobs (create, claim, run) and the bulk writes importers need
where the owning app has no service for them (units, departments, residents and their households
and tags, updates of places). Writes that an app does own go through that app's services (grids,
staff and assignments, creating places)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from dualgrid.accounts.services import audit_record
from dualgrid.lib.crypto import EncryptedCharField
from dualgrid.lib.errors import DomainError, Invalid, NotFound
from dualgrid.people.models import Household, Resident, ResidentTag
from dualgrid.places.models import AdminUnit, Department, Grid
from dualgrid.places.services import grid_save

from .models import RUNNING, ImportJob, JobStatus
from .xlsx import NotAWorkbook, Workbook

if TYPE_CHECKING:
    from dualgrid.accounts.models import User

    from .importers.base import Importer

log = logging.getLogger("dualgrid.exchange")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_INLINE_ROWS = 2000
STALE_AFTER = timedelta(minutes=10)
SHOWN_ERRORS = 200
BATCH = 2000


def import_max_bytes() -> int:
    return int(settings.DUALGRID.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def inline_rows() -> int:
    return int(settings.DUALGRID.get("IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))


def importer_class(kind: str) -> type[Importer]:
    from .importers import IMPORTERS

    try:
        return IMPORTERS[kind]
    except KeyError:
        raise NotFound(f"没有这种导入类型：{kind}", field="kind", code="not_found") from None


# --- import jobs -------------------------------------------------------------------------------------


def importjob_create(*, user: User, kind: str, upload: UploadedFile) -> ImportJob:
    """Check the upload as a whole (size, really an .xlsx, the headers, any rows) and queue it.

    Problems with the file itself are refused here, before a job exists, as ``Invalid({"file": …})``;
    problems with rows are found when the job runs.
    """
    from .importers.base import ImportRefused
    from .importers.engine import count_rows, locate, max_rows

    cls = importer_class(kind)
    cls(user=user)  # the role and scope check, before the file is even opened
    limit = import_max_bytes()
    size = upload.size or 0
    if size == 0:
        raise Invalid({"file": "文件为空"})
    if size > limit:
        raise Invalid(
            {
                "file": f"文件过大（{size / 1048576:.1f}MB），单个导入文件不能超过{limit // 1048576}MB，请拆分后分批导入"
            }
        )
    upload.seek(0)
    try:
        with Workbook(upload) as book:
            layout = locate(book, cls)
            # Count exactly only as far as deciding "small"; a big file's total is the row count its
            # sheet declares (Excel and WPS always declare it), corrected when the job has read it.
            total = count_rows(book, layout, inline_rows())
    except (NotAWorkbook, ImportRefused) as exc:
        raise Invalid({"file": exc.message}) from None
    if total == 0:
        raise Invalid({"file": "文件中没有数据行（表头下方为空）"})
    if total > inline_rows() and layout.declared_rows:
        total = max(total, layout.declared_rows - layout.header_row)
    if total > max_rows():
        raise Invalid({"file": f"文件超过{max_rows()}行，请拆分后分批导入"})
    upload.seek(0)
    job = ImportJob(
        kind=kind, original_name=(upload.name or "upload.xlsx")[-200:], total_rows=total, created_by=user
    )
    job.source.save("upload.xlsx", File(upload), save=False)
    job.save()
    return job


def importjob_is_small(job: ImportJob) -> bool:
    """Small files are processed in the request that uploads them, so they feel instant."""
    return job.total_rows < inline_rows()


def _claim(filters: Q, expected: dict[str, Any]) -> bool:
    """Compare-and-swap: move one job to 校验中 only if it is still in the state we saw."""
    now = timezone.now()
    changed = ImportJob.objects.filter(filters, **expected).update(
        status=JobStatus.VALIDATING, started_at=now, heartbeat_at=now, processed_rows=0
    )
    return changed == 1


def importjob_process(*, job_id: int) -> bool:
    """Run one queued job now (the upload request does this for small files). False when someone
    else (a worker) already took it."""
    if not _claim(Q(pk=job_id), {"status": JobStatus.QUEUED}):
        return False
    _run(job_id)
    return True


def importjobs_process_next() -> bool:
    """Claim the oldest queued job (or one a dead worker abandoned) and run it; False when there is
    none. ``dualgrid worker`` calls this every round; several workers may run at once."""
    stale = timezone.now() - STALE_AFTER
    candidates = (
        ImportJob.objects.filter(Q(status=JobStatus.QUEUED) | Q(status__in=RUNNING, heartbeat_at__lt=stale))
        .order_by("created_at", "id")
        .values_list("pk", "status", "heartbeat_at")[:5]
    )
    for pk, status, heartbeat in candidates:
        if _claim(Q(pk=pk), {"status": status, "heartbeat_at": heartbeat}):
            _run(pk)
            return True
    return False


class _RolledBack(Exception):
    """A service refused a row during apply: everything written so far is undone."""


def _update(job_id: int, **fields: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now(), **fields)


def _fail(job: ImportJob, message: str, **fields: Any) -> None:
    _update(job.pk, status=JobStatus.FAILED, message=message[:500], finished_at=timezone.now(), **fields)


def _run(job_id: int) -> None:
    from .importers.base import ImportRefused
    from .importers.engine import locate, validate

    job = ImportJob.objects.select_related("created_by", "created_by__unit").get(pk=job_id)
    try:
        importer = importer_class(job.kind)(user=job.created_by)
        with job.source.open("rb") as source, Workbook(source) as book:
            layout = locate(book, type(importer))
            rows, errors = validate(importer, book, layout, lambda n: _update(job.pk, processed_rows=n))
            if not errors:
                _update(job.pk, status=JobStatus.APPLYING, processed_rows=len(rows), total_rows=len(rows))
                try:
                    with transaction.atomic():
                        counts = importer.apply(errors)
                        if errors:
                            raise _RolledBack
                        audit_record(
                            user=job.created_by,
                            action="import",
                            obj=job,
                            detail=f"导入{type(importer).label}《{job.original_name}》{len(rows)}行："
                            f"新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}",
                        )
                except _RolledBack:
                    pass
                else:
                    _update(
                        job.pk,
                        status=JobStatus.DONE,
                        finished_at=timezone.now(),
                        total_rows=len(rows),
                        processed_rows=len(rows),
                        created_count=counts.created,
                        updated_count=counts.updated,
                        unchanged_count=counts.unchanged,
                        message="",
                    )
                    return
            _report_errors(job, book, layout, type(importer), errors, len(rows))
    except (NotAWorkbook, ImportRefused, DomainError) as exc:
        _fail(job, exc.message)
    except IntegrityError:
        log.warning("import job %s hit a constraint while applying", job.pk, exc_info=True)
        _fail(job, "导入时相关数据被同时修改（例如他人同时导入了同一批数据），未写入任何数据，请重新导入")
    except DatabaseError:
        log.exception("import job %s: database error", job.pk)
        _fail(job, "数据库暂时不可用，未写入任何数据，请稍后重新导入")
    except Exception:
        log.exception("import job %s failed", job.pk)
        _fail(job, "导入失败（系统内部错误），未写入任何数据，请联系管理员")
    finally:
        _discard_source(job)


def _report_errors(
    job: ImportJob, book: Workbook, layout: Any, cls: type[Importer], errors: Any, total: int
) -> None:
    from .report import write_error_report

    ordered = errors.sorted()
    with tempfile.TemporaryFile() as out:
        write_error_report(book, layout, cls, ordered, out)
        out.seek(0)
        job.error_report.save("report.xlsx", File(out), save=False)
    _fail(
        job,
        f"发现 {len(errors.rows)} 行有错误，未导入任何数据。请下载错误报告，按“错误原因”列修改后重新上传。",
        error_report=job.error_report.name,
        error_count=len(ordered),
        error_rows=len(errors.rows),
        errors=[[e.row, e.column, e.reason] for e in ordered[:SHOWN_ERRORS]],
        total_rows=total,
        processed_rows=total,
    )


def _discard_source(job: ImportJob) -> None:
    """The uploaded register is not kept once the job is over (it holds personal data)."""
    current = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
    if current in (JobStatus.DONE, JobStatus.FAILED) and job.source:
        job.source.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(source="")


# --- places: units, grids, departments ---------------------------------------------------------------


@transaction.atomic
def units_upsert(*, creates: Sequence[dict[str, Any]], renames: Iterable[tuple[int, str]]) -> None:
    """New units, parents before children (a parent may be new in the same batch), and renames."""
    ids = dict(AdminUnit.objects.values_list("code", "pk"))
    for level in sorted({c["level"] for c in creates}):
        batch = [
            AdminUnit(
                code=c["code"],
                name=c["name"],
                level=level,
                parent_id=ids[c["parent_code"]] if c["parent_code"] else None,
            )
            for c in creates
            if c["level"] == level
        ]
        for unit in AdminUnit.objects.bulk_create(batch, batch_size=BATCH):
            ids[unit.code] = unit.pk
    renamed = [AdminUnit(pk=pk, name=name) for pk, name in renames]
    AdminUnit.objects.bulk_update(renamed, ["name"], batch_size=BATCH)


def grid_upsert(*, actor: User, code: str, existing: Grid | None, values: dict[str, Any]) -> bool:
    """Create or update one grid through ``places.services.grid_save`` (tree checks, ancestors).
    Returns True when created."""
    grid = existing if existing is not None else Grid(code=code, boundary="")
    grid.village = values["village"]
    for name in ("name", "tier", "kind", "households", "population", "active"):
        if values.get(name) is not None:
            setattr(grid, name, values[name])
    parent_code = values.get("parent_code")
    if values["tier"] == "total":
        grid.parent = None
    elif parent_code:
        grid.parent = Grid.objects.get(code=parent_code)
    grid_save(actor=actor, grid=grid)
    return existing is None


@transaction.atomic
def departments_upsert(*, creates: Sequence[Department], updates: Sequence[Department]) -> None:
    Department.objects.bulk_create(creates, batch_size=BATCH)
    Department.objects.bulk_update(updates, ["name", "unit_id", "phone", "active"], batch_size=BATCH)


# --- residents, households, tags ---------------------------------------------------------------------


def _copy_insert(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert new rows (field attname → value) with PostgreSQL's COPY: for 100,000 residents about
    twice as fast as ``bulk_create`` (no model instances, no per-value query compilation, no
    parameter arrays). Values are prepared as the fields would prepare them: auto_now(_add) stamps,
    defaults, and ``get_prep_value`` for an ``EncryptedCharField`` (which encrypts)."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    plan = [
        (
            f.attname,
            getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False),
            f.get_prep_value if isinstance(f, EncryptedCharField) else None,
            f.get_default(),
        )
        for f in fields
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = []
            for name, stamped, prepare, default in plan:
                if stamped:
                    values.append(now)
                    continue
                value = row.get(name, default)
                values.append(prepare(value) if prepare is not None and value else value)
            copy.write_row(values)


HouseKey = tuple[int, str, str]  # (grid id, address, house number)


@transaction.atomic
def residents_apply(
    *,
    creates: Sequence[dict[str, Any]],
    create_households: Sequence[HouseKey | None],
    updates: Sequence[tuple[int, dict[str, Any], HouseKey | None]],
    new_households: dict[HouseKey, str],
    head_updates: dict[int, str],
    households: dict[HouseKey, int],
    tag_creates: Sequence[tuple[str, int, str]],
    tag_levels: Sequence[tuple[int, int, str]],
    since: date,
) -> None:
    """Write a checked register in bulk: households first, then new and changed residents, then tags.

    ``people.services`` has one-at-a-time ``resident_create``/``household_create``; a district register
    of 100,000 people needs bulk writes (a few hundred statements instead of ~400,000), so the import
    writes here, after the importer applied the same rules (ID checksum, phone, grid, scope).
    """
    house_ids = dict(households)
    fresh = [
        Household(grid_id=g, address=a, house_number=n, head_name=head)
        for (g, a, n), head in new_households.items()
    ]
    for household in Household.objects.bulk_create(fresh, batch_size=BATCH):
        house_ids[(household.grid_id, household.address, household.house_number)] = household.pk
    Household.objects.bulk_update(
        [Household(pk=pk, head_name=name) for pk, name in head_updates.items()],
        ["head_name"],
        batch_size=BATCH,
    )
    for values, key in zip(creates, create_households, strict=True):
        values["household_id"] = house_ids[key] if key is not None else None
    resident_ids: dict[str, int] = {}
    if connection.vendor == "postgresql":
        _copy_insert(Resident, creates)  # ids are looked up by hash below, where tags need them
    else:
        for start in range(0, len(creates), BATCH):
            batch = [Resident(**values) for values in creates[start : start + BATCH]]
            for resident in Resident.objects.bulk_create(batch):
                resident_ids[resident.id_number_hash] = resident.pk
    groups: dict[tuple[str, ...], list[Resident]] = {}
    for pk, changed, key in updates:
        values = dict(changed)
        if key is not None:
            values["household_id"] = house_ids[key]
        groups.setdefault(tuple(sorted(values)), []).append(Resident(pk=pk, **values))
    for fields, objs in groups.items():
        Resident.objects.bulk_update(objs, list(fields), batch_size=500)
    if tag_creates:
        missing = sorted({h for h, _, _ in tag_creates if h not in resident_ids})
        for chunk in range(0, len(missing), BATCH):
            part = missing[chunk : chunk + BATCH]
            resident_ids.update(
                Resident.objects.filter(id_number_hash__in=part).values_list("id_number_hash", "pk")
            )
        ResidentTag.objects.bulk_create(
            [
                ResidentTag(resident_id=resident_ids[h], tag_id=t, level=lv, since=since)
                for h, t, lv in tag_creates
            ],
            batch_size=BATCH,
        )
    for resident_id, tag_id, level in tag_levels:
        ResidentTag.objects.filter(resident_id=resident_id, tag_id=tag_id, ended_on__isnull=True).update(
            level=level
        )


# --- places of the register --------------------------------------------------------------------------


@transaction.atomic
def premises_update(*, model: type[Model], updates: Sequence[tuple[Model, list[str]]]) -> None:
    """Save changed rental houses, business premises or key places (``people`` only creates them)."""
    groups: dict[tuple[str, ...], list[Model]] = {}
    for obj, changed in updates:
        groups.setdefault(tuple(sorted(set(changed))), []).append(obj)
    for names, objs in groups.items():
        model._default_manager.bulk_update(objs, list(names), batch_size=500)
