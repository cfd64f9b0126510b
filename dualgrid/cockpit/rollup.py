"""Daily figures rolled up from the case timeline (``CaseEvent``), incrementally.

The worker calls ``rollup_pending()`` every round: it reads the events above a stored watermark in
batches and adds their counters to ``DailyFigure`` rows with one upsert per row, and the same deltas
to the month's and the year's rows (``MonthlyFigure``, ``YearlyFigure``, see ``grains.py``). The
watermark and the upserts are written in one transaction, with the watermark row locked, so a crash
loses nothing and two workers never count an event twice. ``rebuild`` recomputes whole days from the
events (history, a changed definition, a repaired event), then the months and years those days
belong to from the daily rows; ``dualgrid cockpit_rebuild`` runs it from the command line.

An event adds to the row of the local day (Asia/Shanghai) on which it happened, in every slice its
case belongs to (the case's county, town, village and grid; its channel, top-level and leaf category,
as they are when the event is rolled up; ``rebuild`` takes them as they are then), and in the
department and worker breakdowns of whoever the event is counted for (``DEPARTMENT_KEY``,
``WORKER_KEY``). What each counter
counts is written in ``COUNTERS`` below; the cockpit prints the same texts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import (
    Case as SqlCase,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from dualgrid.cases.models import CaseEvent, Rating, Status
from dualgrid.cases.workflow import Action

from . import grains
from .grains import LOCAL_TZ
from .models import (
    COUNTER_FIELDS,
    DailyFigure,
    Dim,
    Figures,
    GridLoad,
    Level,
    MonthlyFigure,
    RollupMark,
    YearlyFigure,
)

MARK = "case_events"

DISPATCH_ACTIONS = [Action.DISPATCH, "auto_dispatch"]
# The clock of 处置 (re)starts at a dispatch, at 核查不通过 and at a 不满意 rating.
REWORK = Q(action=Action.SEND_BACK) | Q(action=Action.RATE, to_status=Status.IN_PROGRESS)
RESOLVE_CLOCK_START = Q(action__in=DISPATCH_ACTIONS) | REWORK


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp, on PostgreSQL and SQLite alike."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra
        )


def _seconds_since_last(start: Q) -> Expression:
    """Seconds from the case's latest earlier event matching ``start`` to this event."""
    previous = (
        CaseEvent.objects.filter(start, case_id=OuterRef("case_id"), id__lt=OuterRef("id"))
        .order_by("-id")
        .values("created_at")[:1]
    )
    return EpochSeconds(F("created_at")) - EpochSeconds(Subquery(previous))


@dataclass(frozen=True)
class Counter:
    definition: str
    aggregate: Any


def _count(condition: Q) -> Count:
    return Count("id", filter=condition)


COUNTERS: dict[str, Counter] = {
    "received": Counter("受理登记数：登记事件（create）的条数，记在登记当天。", _count(Q(action="create"))),
    "rejected": Counter("不予受理数：不予受理（reject）的条数。", _count(Q(action=Action.REJECT))),
    "dispatched": Counter(
        "派遣数：派单（dispatch）与平台派单（auto_dispatch）的次数；退回或撤回后再派计为又一次派遣。",
        _count(Q(action__in=DISPATCH_ACTIONS)),
    ),
    "signed": Counter("签收数：签收（sign）的次数。", _count(Q(action=Action.SIGN))),
    "resolved": Counter(
        "办结反馈数：办结反馈（resolve）的次数，返工后再次反馈另计一次。", _count(Q(action=Action.RESOLVE))
    ),
    "closed": Counter(
        "结案数：进入“已结案”的事件数（满意/基本满意评价、中心结案、逾期未评价自动结案），记在结案当天。",
        _count(Q(to_status=Status.CLOSED)),
    ),
    "closed_on_time": Counter(
        "按期结案数：结案事件中最后一次办结反馈不晚于办结时限（含批准的延期）的。",
        _count(Q(to_status=Status.CLOSED, case__resolved_on_time=True)),
    ),
    "auto_closed": Counter(
        "未评价结案数：评价期满未评价、自动结案（auto_close）的事件数。", _count(Q(action=Action.AUTO_CLOSE))
    ),
    "deferred": Counter(
        "缓办（延期）数：批准延期（approve_extension）的次数，记在批准当天。",
        _count(Q(action=Action.APPROVE_EXTENSION)),
    ),
    "deferred_closed": Counter(
        "延期后结案数：结案事件中该事件曾获批延期的（缓办数 = 延期获批数 − 延期后结案数，即本期获批、尚未结案的）。",
        _count(Q(to_status=Status.CLOSED, case__extension_count__gt=0)),
    ),
    "reworked": Counter("返工数：核查不通过（send_back）与“不满意”评价的次数之和。", _count(REWORK)),
    "rated": Counter(
        "已评价数：评价（rate）的次数，含“不满意”；一件事返工后再评价计两次。未评价自动结案不计入。",
        _count(Q(action=Action.RATE)),
    ),
    "satisfied": Counter(
        "满意数：评价为“满意”的次数。", _count(Q(action=Action.RATE, data__rating=Rating.SATISFIED.label))
    ),
    "basic_satisfied": Counter(
        "基本满意数：评价为“基本满意”的次数。", _count(Q(action=Action.RATE, data__rating=Rating.BASIC.label))
    ),
    "unsatisfied": Counter(
        "不满意数：评价为“不满意”的次数（事件退回处置中，即返工）。",
        _count(Q(action=Action.RATE, to_status=Status.IN_PROGRESS)),
    ),
    "sign_seconds_sum": Counter(
        "签收用时合计：每次签收距该事件此前最近一次派遣的秒数之和。",
        Sum(_seconds_since_last(Q(action__in=DISPATCH_ACTIONS)), filter=Q(action=Action.SIGN)),
    ),
    "resolve_seconds_sum": Counter(
        "处置用时合计：每次办结反馈距此前最近一次派遣、核查不通过或“不满意”评价（处置计时起点）的秒数之和。",
        Sum(_seconds_since_last(RESOLVE_CLOCK_START), filter=Q(action=Action.RESOLVE)),
    ),
}
assert tuple(COUNTERS) == COUNTER_FIELDS

# Only these events change a counter; the others (classify, reveal_phone, deadline_*, …) are skipped.
COUNTED_EVENTS = Q(
    action__in=[
        "create",
        Action.REJECT,
        *DISPATCH_ACTIONS,
        Action.SIGN,
        Action.RESOLVE,
        Action.APPROVE_EXTENSION,
        Action.SEND_BACK,
        Action.RATE,
    ]
) | Q(to_status=Status.CLOSED)

# Who an event is counted for, in the department and worker breakdowns. Both read what the event
# itself says where it can, so the incremental rollup and a later rebuild agree even after the case
# has moved on:
# * 承办部门: a dispatch counts for the department in its data (``department`` id; a dispatch to a grid
#   for none; an event from before the ids were recorded for the case's department); a sign or a
#   resolve for the actor's department (a department's handler; a grid worker has none); a
#   registration or a 不予受理 for none; every other step (extension, send-back, rating, closure) for
#   the case's assigned department when the event is rolled up — a closure is final, so it stays.
# * 承办人 (网格员): the person who registered (上报), signed or resolved — the event's own actor; a
#   later step counts for the case's 签收人; dispatches and rejections for nobody (none has signed).
DISPATCH_DEPARTMENT = SqlCase(
    When(
        Q(data__has_key="department") | Q(data__has_key="grid"),
        then=Cast(KeyTextTransform("department", "data"), BigIntegerField()),
    ),
    default=F("case__assigned_department_id"),
    output_field=BigIntegerField(),
)
DEPARTMENT_KEY = SqlCase(
    When(action__in=["create", Action.REJECT], then=Value(None)),
    When(action__in=DISPATCH_ACTIONS, then=DISPATCH_DEPARTMENT),
    When(action__in=[Action.SIGN, Action.RESOLVE], then=F("actor__department_id")),
    default=F("case__assigned_department_id"),
    output_field=BigIntegerField(),
)
WORKER_KEY = SqlCase(
    When(action__in=["create", Action.SIGN, Action.RESOLVE], then=F("actor_id")),
    When(action__in=[Action.REJECT, *DISPATCH_ACTIONS], then=Value(None)),
    default=F("case__assignee_id"),
    output_field=BigIntegerField(),
)

# The finest grain the events are grouped by in SQL; every slice is a sum over these rows.
FINE_COLUMNS: dict[str, Any] = {
    "d": TruncDate("created_at", tzinfo=LOCAL_TZ),
    "county": F("case__county_id"),
    "town": F("case__town_id"),
    "village": F("case__village_id"),
    "grid": F("case__grid_id"),
    "channel": F("case__channel"),
    "top": Coalesce("case__category__parent_id", "case__category_id"),
    "leaf": F("case__category_id"),
    "dept": DEPARTMENT_KEY,
    "worker": WORKER_KEY,
}
PLACE_COLUMNS: dict[Level, str | None] = {
    Level.ALL: None,
    Level.COUNTY: "county",
    Level.TOWN: "town",
    Level.VILLAGE: "village",
    Level.GRID: "grid",
}
DIM_COLUMNS: dict[Dim, str | None] = {
    Dim.TOTAL: None,
    Dim.CHANNEL: "channel",
    Dim.TOP_CATEGORY: "top",
    Dim.CATEGORY: "leaf",
    Dim.DEPARTMENT: "dept",
    Dim.WORKER: "worker",
}
# Breakdowns whose key may be missing: an event with no department / person adds no row there.
OPTIONAL_KEYS = {"dept", "worker"}
# A grid's figures by channel or leaf category would multiply rows by ~50 for little use: grids get
# the total, the top-level categories, the departments and the workers (a handful per grid and day);
# units above them every breakdown.
SLICES = [
    (int(level), PLACE_COLUMNS[level], str(dim), DIM_COLUMNS[dim])
    for level in Level
    for dim in Dim
    if not (level == Level.GRID and dim in (Dim.CHANNEL, Dim.CATEGORY))
]

SliceKey = tuple[date, int, int, str, str]


def _aggregate(events: QuerySet[CaseEvent]) -> dict[SliceKey, list[int]]:
    """The counters of ``events`` per (day, level, unit, dim, key): one GROUP BY at the finest grain
    (day × place × channel × category) in SQL, then summed into each slice here."""
    aggregates = {name: counter.aggregate for name, counter in COUNTERS.items()}
    fine = (
        events.filter(COUNTED_EVENTS)
        .annotate(**FINE_COLUMNS)
        .values(*FINE_COLUMNS)
        .annotate(**aggregates)
        .order_by()
    )
    rows: dict[SliceKey, list[int]] = {}
    width = len(COUNTER_FIELDS)
    for row in fine.iterator(chunk_size=10_000):
        counters = [round(row[name] or 0) for name in COUNTER_FIELDS]
        if not any(counters):
            continue
        for level, place_column, dim, key_column in SLICES:
            unit = row[place_column] if place_column else 0
            if unit is None:
                continue  # a case without that place (outside every grid) has no row at that level
            if key_column in OPTIONAL_KEYS and row[key_column] is None:
                continue
            key = "" if key_column is None else str(row[key_column] if row[key_column] is not None else 0)
            slot = (row["d"], level, unit, dim, key)
            acc = rows.get(slot)
            if acc is None:
                rows[slot] = counters.copy()
            else:
                for i in range(width):
                    acc[i] += counters[i]
    return rows


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(rows: dict[SliceKey, list[int]], model: type[Figures] = DailyFigure) -> None:
    """Add the counters to their rows, creating missing rows: INSERT … ON CONFLICT DO UPDATE."""
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    key_columns = ["day", "level", "unit_id", "dim", "key"]
    columns = ", ".join(q(c) for c in [*key_columns, *COUNTER_FIELDS])
    updates = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in COUNTER_FIELDS)
    width = len(key_columns) + len(COUNTER_FIELDS)
    items = list(rows.items())
    with connection.cursor() as cursor:
        for chunk in _chunks(items, 500):
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            params: list[Any] = []
            for (day, level, unit_id, dim, key), counters in chunk:
                params += [connection.ops.adapt_datefield_value(day), level, unit_id, dim, key, *counters]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "
                f"ON CONFLICT ({q('level')}, {q('unit_id')}, {q('dim')}, {q('day')}, {q('key')}) "
                f"DO UPDATE SET {updates}",
                params,
            )


def _insert_new(rows: dict[SliceKey, list[int]]) -> None:
    """Rows known not to exist (their days were just deleted): COPY on PostgreSQL — 16× faster than
    the upsert for a rebuild's month (181k rows: 1.0 s against 16.5 s) — else the upsert."""
    if connection.vendor != "postgresql":
        _upsert(rows)
        return
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ["day", "level", "unit_id", "dim", "key", *COUNTER_FIELDS])
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {q(DailyFigure._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for (day, level, unit_id, dim, key), counters in rows.items():
                copy.write_row((day, level, unit_id, dim, key, *counters))


# The coarser grains and the first day of their bucket holding a day.
COARSER: tuple[tuple[type[Figures], Any], ...] = (
    (MonthlyFigure, grains.month_start),
    (YearlyFigure, grains.year_start),
)


def _coarsen(rows: dict[SliceKey, list[int]], start_of: Any) -> dict[SliceKey, list[int]]:
    """The daily rows summed per month (or year): the same slices keyed by the bucket's first day."""
    coarse: dict[SliceKey, list[int]] = {}
    for (day, level, unit_id, dim, key), counters in rows.items():
        slot = (start_of(day), level, unit_id, dim, key)
        acc = coarse.get(slot)
        if acc is None:
            coarse[slot] = counters.copy()
        else:
            for i, value in enumerate(counters):
                acc[i] += value
    return coarse


def add_figures(rows: dict[SliceKey, list[int]]) -> None:
    """Add daily counters to the day's rows and the same deltas to their month's and year's rows (the
    caller holds the transaction, and the watermark when they come from events)."""
    _upsert(rows)
    for model, start_of in COARSER:
        _upsert(_coarsen(rows, start_of), model)


def _resum(model: type[Figures], source: type[Figures], bucket: date, first: date, last: date) -> int:
    """Replace ``model``'s rows of the bucket starting on ``bucket`` by the sums of ``source``'s rows
    with ``first`` <= day <= ``last``, in SQL (the daily rows of a month, or the monthly rows of a
    year: read through their ``day`` index). The rows are written in the order of the slice index, so a
    read of one place's breakdown (a city's 10,000 worker rows) touches a few hundred heap pages, not
    one page per row (the 10,024 worker rows of the 10M-case city's year were 10,129 pages, more than
    half of PostgreSQL's default 128 MB of shared buffers). Returns the rows written."""
    q = connection.ops.quote_name
    keys = ", ".join(q(c) for c in ("level", "unit_id", "dim", "key"))
    columns = ", ".join(q(c) for c in ("day", "level", "unit_id", "dim", "key", *COUNTER_FIELDS))
    sums = ", ".join(f"SUM({q(c)})" for c in COUNTER_FIELDS)
    adapt = connection.ops.adapt_datefield_value
    model._default_manager.filter(day=bucket).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A month of a city is millions of daily rows: hash them in memory, not in 4 MB batches.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"INSERT INTO {q(model._meta.db_table)} ({columns}) "
            f"SELECT %s, {keys}, {sums} FROM {q(source._meta.db_table)} "
            f"WHERE {q('day')} >= %s AND {q('day')} <= %s GROUP BY {keys} ORDER BY {keys}",
            [adapt(bucket), adapt(first), adapt(last)],
        )
        return cursor.rowcount


RECEIVED, REJECTED, CLOSED = (COUNTER_FIELDS.index(name) for name in ("received", "rejected", "closed"))


def _add_open(rows: dict[SliceKey, list[int]]) -> None:
    """Move the grids' open-case tallies by the registrations, rejections and closures in ``rows``."""
    deltas: dict[int, int] = {}
    for (_day, level, unit_id, dim, _key), counters in rows.items():
        if level == Level.GRID and dim == Dim.TOTAL:
            delta = counters[RECEIVED] - counters[REJECTED] - counters[CLOSED]
            deltas[unit_id] = deltas.get(unit_id, 0) + delta
    changed = [(grid_id, delta) for grid_id, delta in sorted(deltas.items()) if delta]
    if not changed:
        return
    q = connection.ops.quote_name
    table = q(GridLoad._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in _chunks(changed, 1000):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({q('grid_id')}, {q('open')}) VALUES {values} "
                f"ON CONFLICT ({q('grid_id')}) DO UPDATE SET {q('open')} = {table}.{q('open')} + excluded.{q('open')}",
                [value for row in chunk for value in row],
            )


def _recount_open() -> None:
    """GridLoad from scratch: the sums over all days of the grids' daily rows (the caller holds the mark)."""
    GridLoad.objects.all().delete()
    totals = (
        DailyFigure.objects.filter(level=Level.GRID, dim=Dim.TOTAL)
        .values("unit_id")
        .annotate(received=Sum("received"), rejected=Sum("rejected"), closed=Sum("closed"))
        .order_by()
    )
    GridLoad.objects.bulk_create(
        [
            GridLoad(grid_id=row["unit_id"], open=row["received"] - row["rejected"] - row["closed"])
            for row in totals.iterator(chunk_size=5000)
        ],
        batch_size=2000,
    )


class _MarkMoved(Exception):
    """Another process moved the watermark first (SQLite has no row locks): roll back, retry later."""


def _locked_mark() -> RollupMark:
    RollupMark.objects.get_or_create(name=MARK)
    return RollupMark.objects.select_for_update().get(name=MARK)


def _settle_seconds(settle_seconds: float | None) -> float:
    if settle_seconds is not None:
        return settle_seconds
    return float(settings.DUALGRID["COCKPIT_SETTLE_SECONDS"])


def rollup_events(
    batch: int = 5000, *, settle_seconds: float | None = None, now: datetime | None = None
) -> int:
    """Count the next ``batch`` settled events into the daily figures; return how many were read."""
    settle = timedelta(seconds=_settle_seconds(settle_seconds))
    now = now or timezone.now()
    try:
        with transaction.atomic():
            mark = _locked_mark()
            started_from = mark.last_id
            # Caught up with the last horizon: note the newest id now; it becomes readable once settled.
            if mark.last_id >= mark.horizon_id and (
                mark.horizon_at is None or now - mark.horizon_at >= settle
            ):
                mark.horizon_id = max(mark.horizon_id, CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0)
                mark.horizon_at = now
            settled = mark.horizon_at is not None and now - mark.horizon_at >= settle
            readable = mark.horizon_id if settled else mark.last_id
            ids = list(
                CaseEvent.objects.filter(id__gt=mark.last_id, id__lte=readable)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if ids:
                rows = _aggregate(CaseEvent.objects.filter(id__gt=mark.last_id, id__lte=ids[-1]))
                add_figures(rows)
                _add_open(rows)
                mark.last_id = ids[-1]
            moved = RollupMark.objects.filter(pk=mark.pk, last_id=started_from).update(
                last_id=mark.last_id, horizon_id=mark.horizon_id, horizon_at=mark.horizon_at
            )
            if moved != 1:
                raise _MarkMoved
    except _MarkMoved:
        return 0
    return len(ids)


def rollup_pending(*, batch: int = 5000, max_batches: int = 20) -> int:
    """The worker's step: read settled events until caught up (at most ``max_batches`` per round)."""
    total = 0
    for _ in range(max_batches):
        read = rollup_events(batch)
        total += read
        if read < batch:
            break
    return total


def counted_through(moment: datetime) -> bool:
    """True when every event that happened before ``moment`` is already in the daily figures.

    An event is counted once the watermark passes its id, and ids follow insertion, not ``created_at``:
    after an outage, an import or a fresh demo the timeline can hold old events above the watermark.
    The daily report must wait for those, or it archives a day before its figures are complete."""
    mark = RollupMark.objects.filter(name=MARK).values_list("last_id", flat=True).first() or 0
    return not CaseEvent.objects.filter(id__gt=mark, created_at__lt=moment).exists()


def local_day_bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days day_from … day_to."""
    start = datetime.combine(day_from, datetime.min.time(), tzinfo=LOCAL_TZ)
    end = datetime.combine(day_to + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
    return start, end


def rebuild(day_from: date, day_to: date, *, recount: bool = True, log: Any = None) -> int:
    """Recompute the figures of the local days day_from … day_to from the events the watermark covers
    (later events are the incremental rollup's), one calendar month at a time: in one transaction per
    month, with the watermark locked (a running worker waits instead of counting into rows being
    rebuilt), the month's rebuilt days are replaced, then the month's row is summed again from all its
    daily rows (so rebuilding part of a month leaves the month right), and after the last month of a
    year in the range, the year's rows from its monthly rows. Then the grids' open-case tallies are
    recounted from the daily rows (``recount``). Returns the daily rows written."""
    written = 0
    chunks = grains.month_chunks(day_from, day_to)
    for i, (first, last) in enumerate(chunks):
        started = time.monotonic()
        start, end = local_day_bounds(first, last)
        month = grains.month_start(first)
        year_done = i == len(chunks) - 1 or chunks[i + 1][0].year != first.year
        with transaction.atomic():
            mark = _locked_mark()
            DailyFigure.objects.filter(day__gte=first, day__lte=last).delete()
            rows = _aggregate(
                CaseEvent.objects.filter(created_at__gte=start, created_at__lt=end, id__lte=mark.last_id)
            )
            _insert_new(rows)
            written += len(rows)
            aggregated = time.monotonic()
            months = _resum(
                MonthlyFigure, DailyFigure, month, month, grains.next_month(month) - timedelta(days=1)
            )
            years = -1
            if year_done:
                year = grains.year_start(first)
                years = _resum(YearlyFigure, MonthlyFigure, year, year, date(year.year, 12, 1))
        if log is not None:
            log(
                f"{first} … {last}: {len(rows)} daily rows in {aggregated - started:.1f} s, "
                f"{months} monthly"
                + (f" and {years} yearly" if years >= 0 else "")
                + f" rows in {time.monotonic() - aggregated:.1f} s"
            )
    if recount:
        with transaction.atomic():
            _locked_mark()
            _recount_open()
    return written


def rebuild_all(*, settle_seconds: float | None = None, log: Any = None) -> int:
    """Recompute every day, month and year from the whole timeline, e.g. on a database that already
    holds cases, or after upgrading to the monthly and yearly rows (cockpit migration 0008).

    The watermark jumps to the newest settled event (created more than the settle time ago); anything
    above it is left to the incremental rollup. The figures are empty until the days are rebuilt."""
    settle = timedelta(seconds=_settle_seconds(settle_seconds))
    now = timezone.now()
    with transaction.atomic():
        mark = _locked_mark()
        top = CaseEvent.objects.filter(created_at__lte=now - settle).aggregate(top=Max("id"))["top"] or 0
        if top > mark.last_id:
            mark.last_id = top
            mark.horizon_id = max(mark.horizon_id, top)
            mark.horizon_at = now
            mark.save()
        for model in (DailyFigure, MonthlyFigure, YearlyFigure):
            model.objects.all().delete()
        GridLoad.objects.all().delete()
        span = CaseEvent.objects.filter(id__lte=mark.last_id).aggregate(
            first=Min("created_at"), last=Max("created_at")
        )
    if span["first"] is None:
        return 0
    first = timezone.localtime(span["first"], LOCAL_TZ).date()
    last = timezone.localtime(span["last"], LOCAL_TZ).date()
    return rebuild(first, last, log=log)
