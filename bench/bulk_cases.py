#!/usr/bin/env python
"""Fill a dualgrid database with N synthetic but realistic cases, fast (PostgreSQL COPY).

Not the API and not the services: rows are written directly with ``COPY ... FROM STDIN`` through
psycopg 3 (``cursor.copy``), in batches of ``--batch`` cases per transaction. The database must
already hold the demo district (places, users, categories, routing rules)::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualgrid_bench
    .venv/bin/dualgrid migrate --noinput -v0
    .venv/bin/dualgrid demo --cases 0 --password demo1234
    .venv/bin/python bench/bulk_cases.py                 # 1,000,000 cases over 3 years
    .venv/bin/python bench/bulk_cases.py --n 200000 --years 1 --events create

What a case looks like
  * ``created_at`` uniform over the last ``--years`` years, moved into 08-21h local time when it
    fell at night (as the demo does); ids increase with ``created_at`` like a live system's.
  * place: a grid drawn with the grid's population as weight, a point inside its polygon, and the
    grid's own village/town/county ids (from the Grid table).
  * text: the demo's report generator (title, description, address, reporter, channel), drawn from
    a pool of pre-generated reports per (place, category) so the generator stays fast.
  * life cycle, simulated on a clock and cut at "now": 80 % arrive with a category; a category with
    a routing rule is auto-dispatched (grid or department) like ``case_create`` does; the rest wait
    for the centre (4 % rejected → void; accepted, then dispatched 70 % to the grid, else to a
    department). Then 签收 (mean 3 h), 6 % ask for and get a 72 h extension, 办结 (mean 40 h, 12 %
    slow: 150-400 h), 核查, then 85 % rated (7 % unsatisfied → rework, re-resolved, re-rated) and
    15 % auto-closed when the 72 h rating window passes. 0.2 % are never finished (the backlog that
    shows up as 已超期). Old cases are therefore almost all closed; open ones are the last days'.
  * time limits from the TimeLimit and Holiday tables (same precedence as
    ``dualgrid.cases.deadlines.limit_for``), ``sign_due_at``/``resolve_due_at``, and the
    ``deadline_state``/``deadline_check_at`` that the worker's sweep would hold now.
  * columns of project-specific field types (the encrypted ``reporter_phone``) are written through
    the field's ``get_db_prep_save``, and ``reporter_phone_hash`` (when the model has it) through
    ``dualgrid.lib.crypto.keyed_hash``, so the rows read back as the ORM's own would.
  * ``number`` = local date + id (the format ``case_create`` uses), unique because ids are.
  * events (``--events``): ``all`` (default) writes the whole timeline the services would have
    written (create, auto_dispatch or accept/dispatch/reject, sign, extension, resolve, verify,
    rate/auto_close; about 6 per closed case); ``create`` writes only the create event; ``none``
    writes none.

Ids are reserved up front by moving the table's id sequence past the block, so run this while
nothing else inserts cases. SQLite is refused unless ``--n`` is at most 20,000 (plain INSERTs
then). ANALYZE runs at the end.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

SQLITE_MAX = 20_000
HOUR = 3600.0
DAY = 86400.0
LOCAL_OFFSET = 8 * HOUR  # Asia/Shanghai has no DST


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="cases to add (default 1,000,000)")
    p.add_argument("--years", type=float, default=3.0, help="spread created_at over this many years")
    p.add_argument("--events", choices=("all", "create", "none"), default="all")
    p.add_argument("--batch", type=int, default=50_000, help="cases per COPY transaction")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-analyze", action="store_true")
    p.add_argument(
        "--safe",
        action="store_true",
        help="PostgreSQL: keep indexes and foreign-key checks, commit per batch (slower). The default "
        "fast mode drops and rebuilds the secondary indexes in one transaction with FK triggers off "
        "(needs a superuser, e.g. the local postgres user)",
    )
    return p.parse_args()


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite" and args.n > SQLITE_MAX:
        print(
            f"bulk_cases: refusing to load {args.n:,} cases into SQLite ({connection.settings_dict['NAME']}).\n"
            "  This bench is for PostgreSQL: set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualgrid_bench\n"
            f"  (on SQLite pass --n {SQLITE_MAX} or fewer for a small smoke run).",
            file=sys.stderr,
        )
        return 2
    if connection.vendor not in {"postgresql", "sqlite"}:
        print(f"bulk_cases: unsupported database {connection.vendor}", file=sys.stderr)
        return 2

    gen = Generator(args)
    if not gen.ready:
        return 2
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        n_cases, n_events = load_postgres(gen, args)
    else:
        n_cases, n_events = load_sqlite(gen, args)
    load_s = time.perf_counter() - started
    print(
        f"loaded {n_cases:,} cases + {n_events:,} events in {load_s:.1f} s: "
        f"{n_cases / load_s:,.0f} cases/s, {(n_cases + n_events) / load_s:,.0f} rows/s"
    )
    if not args.no_analyze:
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE cases_case")
            cur.execute("ANALYZE cases_caseevent")
        print(f"ANALYZE in {time.perf_counter() - t:.1f} s")
    summarize()
    return 0


# --- reference data and the life-cycle simulation -------------------------------------------------


class Generator:
    def __init__(self, args: argparse.Namespace) -> None:
        import shapely
        from shapely import wkt

        from dualgrid.accounts.models import Role, User
        from dualgrid.cases.models import Case, CaseEvent, Category, Holiday, RoutingRule, TimeLimit
        from dualgrid.demo import texts
        from dualgrid.places.models import AdminUnit, Department, Grid, UnitLevel

        self.args = args
        self.rng = random.Random(args.seed)
        self.texts = texts
        self.ready = False
        grids = list(Grid.objects.filter(active=True).order_by("id"))
        county = AdminUnit.objects.filter(level=UnitLevel.COUNTY).order_by("id").first()
        if not grids or county is None or not User.objects.filter(username="dispatcher").exists():
            print(
                "bulk_cases: no demo district in this database. Run first:\n"
                "  dualgrid migrate && dualgrid demo --cases 0 --password demo1234",
                file=sys.stderr,
            )
            return
        self.case_columns = [f.column for f in Case._meta.concrete_fields]
        self.case_defaults = {
            f.column: (None if f.null else f.get_default()) for f in Case._meta.concrete_fields
        }
        # Project-specific field types (e.g. an encrypted phone column) get their values through the
        # field's own get_db_prep_save, exactly as the ORM would write them.
        from django.db import connection

        self.custom_fields = [
            (i, f)
            for i, f in enumerate(Case._meta.concrete_fields)
            if not type(f).__module__.startswith("django.")
        ]
        self.connection = connection
        self.phone_hash = None
        if "reporter_phone_hash" in self.case_columns:
            from dualgrid.lib.crypto import keyed_hash

            self.phone_hash = keyed_hash
        self.event_columns = [f.column for f in CaseEvent._meta.concrete_fields if f.column != "id"]
        self.event_defaults = {
            f.column: (None if f.null else f.get_default()) for f in CaseEvent._meta.concrete_fields
        }

        # Grids, weighted by population, with a pool of interior points each.
        self.grids = grids
        self.grid_weights_cum = []
        acc = 0
        for g in grids:
            acc += max(g.population, 1)
            self.grid_weights_cum.append(acc)
        self.points: dict[int, list[tuple[float, float]]] = {}
        for g in grids:
            geom = wkt.loads(g.boundary)
            shapely.prepare(geom)
            minx, miny, maxx, maxy = geom.bounds
            pts: list[tuple[float, float]] = []
            for _ in range(400):
                x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
                if shapely.contains_xy(geom, x, y):
                    pts.append((round(y, 6), round(x, 6)))
                    if len(pts) >= 24:
                        break
            if not pts:
                rp = geom.representative_point()
                pts = [(rp.y, rp.x)]
            self.points[g.pk] = pts

        # Categories and routing (same precedence as dualgrid.cases.routing.route_case).
        cats = {c.pk: c for c in Category.objects.filter(active=True)}
        self.cat_by_code = {c.code: c for c in cats.values()}
        self.leaf_codes = [c.code for c in cats.values() if c.parent_id is not None]
        rules = list(RoutingRule.objects.filter(active=True).select_related("department"))
        self.route: dict[int, tuple[int, str, int | None]] = {}  # category id → (rule id, handler, dept id)
        for c in cats.values():
            chain = []
            node = c
            while node is not None:
                chain.append(node.pk)
                node = cats.get(node.parent_id) if node.parent_id else None
            best = None
            for r in rules:
                if r.category_id not in chain or r.unit_id is not None:
                    continue  # unit-specific rules: none in the demo; ignored here
                if r.handler == "department" and not (r.department and r.department.active):
                    continue
                key = (chain.index(r.category_id), -r.priority)
                if best is None or key < best[0]:
                    best = (key, r)
            if best is not None:
                r = best[1]
                self.route[c.pk] = (r.pk, r.handler, r.department_id)
        self.cat_chain = {}
        for c in cats.values():
            chain = []
            node = c
            while node is not None:
                chain.append(node)
                node = cats.get(node.parent_id) if node.parent_id else None
            self.cat_chain[c.pk] = chain

        # Time limits (same precedence as deadlines.limit_for), as (unit, sign, resolve).
        limits = list(TimeLimit.objects.all())
        self.limit: dict[tuple[int | None, str], tuple[str, int, int]] = {}
        for urgency in ("normal", "urgent"):
            rows = [r for r in limits if r.urgency == urgency]
            by_cat = {r.category_id: r for r in rows if r.category_id}
            for cid in [None, *cats]:
                chosen = None
                if cid is not None:
                    for node in self.cat_chain[cid]:
                        if node.pk in by_cat:
                            chosen = by_cat[node.pk]
                            break
                    if chosen is None:
                        chosen = next(
                            (r for r in rows if not r.category_id and r.kind == cats[cid].kind), None
                        )
                if chosen is None:
                    chosen = next((r for r in rows if not r.category_id and not r.kind), None)
                self.limit[(cid, urgency)] = (
                    (chosen.unit, chosen.sign_limit, chosen.resolve_limit) if chosen else ("workday", 1, 10)
                )

        # Working days (weekdays, with the Holiday table's overrides) as sorted ordinals.
        overrides = dict(Holiday.objects.values_list("date", "is_workday"))
        self.now = time.time()
        first = date.fromtimestamp(self.now - args.years * 365.25 * DAY) - timedelta(days=10)
        last = date.fromtimestamp(self.now) + timedelta(days=400)
        self.workdays: list[int] = []
        d = first
        while d <= last:
            if overrides.get(d, d.weekday() < 5):
                self.workdays.append(d.toordinal())
            d += timedelta(days=1)

        # People: who acts on a case (actor ids and their timeline labels).
        def label(u: User) -> str:
            return u.label

        users = {u.username: u for u in User.objects.filter(username__in=["dispatcher", "calltaker"])}
        self.dispatcher = (users["dispatcher"].pk, label(users["dispatcher"]))
        self.calltaker = (users["calltaker"].pk, label(users["calltaker"]))
        self.grid_worker: dict[int, tuple[int, str]] = {}
        for u in User.objects.filter(role=Role.GRIDWORKER, username__startswith="wg").prefetch_related(
            "grids"
        ):
            for g in u.grids.all():
                self.grid_worker.setdefault(g.pk, (u.pk, label(u)))
        self.dept_handler: dict[int, tuple[int, str]] = {}
        for u in User.objects.filter(role=Role.HANDLER).order_by("username"):
            if u.department_id and u.username.startswith("dept_"):
                self.dept_handler.setdefault(u.department_id, (u.pk, label(u)))
        self.departments = {d.pk: d.name for d in Department.objects.filter(active=True)}
        self.dept_ids = list(self.departments)
        self.grid_names = {g.pk: g.name for g in grids}

        # Text pools: the demo's generator is ~90 µs a report, so draw from pre-made ones.
        t = time.perf_counter()
        self.places = sorted({self.place_name(g) for g in grids})
        self.reports: dict[tuple[str, str], list] = {}
        for place in self.places:
            for code in self.leaf_codes:
                self.reports[(place, code)] = [texts.make_report(self.rng, code, place) for _ in range(3)]
        self.resolutions = {
            code: [texts.make_resolution_note(self.rng, code) for _ in range(8)] for code in self.leaf_codes
        }
        self.rejections = [texts.make_rejection_reason(self.rng) for _ in range(50)]
        self.names = [texts.random_name(self.rng) for _ in range(2000)]
        print(
            f"reference data: {len(grids)} grids, {len(self.leaf_codes)} leaf categories, "
            f"{len(self.route)} routed categories, {len(self.reports) * 3:,} pooled reports "
            f"({time.perf_counter() - t:.1f} s)"
        )
        self.channel_label = {
            "web": "网页/扫码",
            "hotline": "热线电话",
            "patrol": "网格员巡查",
            "group": "网格群",
            "12345": "12345转办",
        }
        self.ready = True

    # -- clocks --

    def add_workdays(self, ts: float, days: int) -> float:
        local_ord = int((ts + LOCAL_OFFSET) // DAY) + 719163  # 1970-01-01 is ordinal 719163
        i = bisect.bisect_right(self.workdays, local_ord)
        target = self.workdays[min(i + days - 1, len(self.workdays) - 1)]
        return ts + (target - local_ord) * DAY

    def add_limit(self, ts: float, amount: int, unit: str) -> float:
        return ts + amount * HOUR if unit == "hour" else self.add_workdays(ts, amount)

    def place_name(self, grid) -> str:  # type: ignore[no-untyped-def]
        """The place a case's text names (its report pool): the grid's village. Subclasses with many
        thousands of grids (bench/city_cases.py) pool by a coarser place to keep the pools small."""
        return grid.name.split("第")[0]

    def created_times(self, n: int, lo: float = 0.0, hi: float = 1.0) -> list[float]:
        """n sorted creation times, uniform over the last ``--years`` years; ``lo``/``hi`` (fractions of
        that span, 0 = oldest) restrict them to a part of it, for loaders that split the work."""
        rng = self.rng
        span = self.args.years * 365.25 * DAY
        out = []
        for _ in range(n):
            ts = self.now - (1 - hi + rng.random() * (hi - lo)) * span  # lo=0, hi=1: now - r * span
            local_hour = ((ts + LOCAL_OFFSET) % DAY) / HOUR
            if local_hour < 7 or local_hour >= 23:
                ts += (rng.randint(8, 21) - int(local_hour)) * HOUR
            if ts >= self.now:
                ts = self.now - rng.uniform(5, 120) * 60
            out.append(ts)
        out.sort()
        return out

    # -- one case --

    def case(self, case_id: int, t0: float) -> tuple[dict, list[dict]]:  # noqa: C901, PLR0912, PLR0915
        rng = self.rng
        now = self.now
        dt = _dt
        want_events = self.args.events
        # place
        r = rng.random() * self.grid_weights_cum[-1]
        grid = self.grids[bisect.bisect_right(self.grid_weights_cum, r)]
        lat, lng = rng.choice(self.points[grid.pk])
        code = rng.choice(self.leaf_codes)
        rep = rng.choice(self.reports[(self.place_name(grid), code)])
        channel = rep.channel if rep.channel in self.channel_label else "web"
        urgent = code.startswith("15") or rng.random() < 0.05
        urgency = "urgent" if urgent else "normal"
        cat = self.cat_by_code[code]
        given = rng.random() > 0.2
        creator = None if channel == "web" else self.calltaker
        phone = rep.reporter_phone
        local_date = date.fromordinal(int((t0 + LOCAL_OFFSET) // DAY) + 719163)
        c: dict = {
            "id": case_id,
            "number": f"{local_date:%Y%m%d}{case_id:06d}",
            "title": rep.title,
            "description": rep.description,
            "channel": channel,
            "urgency": urgency,
            "status": "new",
            "version": 1,
            "reporter_name": rep.reporter_name or rng.choice(self.names),
            "reporter_phone": phone,
            "reporter_phone_last4": phone.replace("-", "")[-4:] if phone else "",
            "lat": lat,
            "lng": lng,
            "address": rep.address,
            "outside_grid": False,
            "created_at": dt(t0),
            "grid_id": grid.pk,
            "village_id": grid.village_id,
            "town_id": grid.town_id,
            "county_id": grid.county_id,
            "category_id": cat.pk if given else None,
            "created_by_id": creator[0] if creator else None,
            "deadline_state": "none",
            "extension_pending": False,
            "extension_hours": 0,
            "rating": "",
            "close_reason": "",
            "rework_count": 0,
            "return_count": 0,
            "extension_count": 0,
        }
        events: list[dict] = []

        def ev(
            ts: float,
            actor: tuple[int, str] | None,
            action: str,
            frm: str,
            to: str,
            note: str = "",
            data: str = "{}",
            public: bool = False,
        ) -> None:
            if want_events == "all" or (want_events == "create" and action == "create"):
                events.append(
                    {
                        "case_id": case_id,
                        "actor_id": actor[0] if actor else None,
                        "actor_label": actor[1] if actor else ("群众" if public else "系统"),
                        "action": action,
                        "from_status": frm,
                        "to_status": to,
                        "note": note,
                        "data": data,
                        "created_at": dt(ts),
                    }
                )

        ev(t0, creator, "create", "", "new", f"通过{self.channel_label[channel]}登记", public=creator is None)
        status = "new"
        clock = t0
        transitions = 0
        assigned_grid = assigned_dept = None
        route = self.route.get(cat.pk) if given else None
        limit = self.limit[(cat.pk, urgency)]

        def start_clock(ts: float) -> None:
            c["clock_started_at"] = ts
            c["sign_due_at"] = self.add_limit(ts, limit[1], limit[0])
            c["resolve_due_at"] = self.add_limit(ts, limit[2], limit[0])

        def finish() -> tuple[dict, list[dict]]:
            c["status"] = status
            c["version"] = 1 + transitions
            c["assigned_grid_id"] = assigned_grid
            c["assigned_department_id"] = assigned_dept
            # The time-limit state the worker's sweep holds now (deadlines.deadline_status).
            window = None
            if status == "pending_sign" and c.get("sign_due_at"):
                window = (c["clock_started_at"], c["sign_due_at"])
            elif status == "in_progress" and c.get("resolve_due_at"):
                window = (c["clock_started_at"], c["resolve_due_at"])
            if window is None:
                c["deadline_state"], c["deadline_check_at"] = "none", None
            else:
                started, due = window
                warn_at = started + (due - started) * 0.8
                if now >= due:
                    c["deadline_state"], c["deadline_check_at"] = "overdue", None
                elif now >= warn_at:
                    c["deadline_state"], c["deadline_check_at"] = "warning", dt(due)
                else:
                    c["deadline_state"], c["deadline_check_at"] = "normal", dt(warn_at)
            for k in (
                "clock_started_at",
                "sign_due_at",
                "resolve_due_at",
                "dispatched_at",
                "signed_at",
                "resolved_at",
                "closed_at",
                "rating_due_at",
            ):
                v = c.get(k)
                if isinstance(v, float):
                    c[k] = dt(v)
            return c, events

        # -- intake: auto-dispatch, or the centre's accept/dispatch/reject
        if route is not None and (route[1] == "department" or grid is not None):
            rule_id, handler, dept = route
            status = "pending_sign"
            if handler == "grid":
                assigned_grid = grid.pk
                to_name = grid.name
            else:
                assigned_dept = dept
                to_name = self.departments[dept]
            c["dispatched_at"] = t0
            start_clock(t0)
            ev(
                t0,
                None,
                "auto_dispatch",
                "new",
                "pending_sign",
                f"按分拨规则派至{to_name}",
                f'{{"rule": {rule_id}}}',
            )
        else:
            nxt = clock + rng.uniform(0.1, 2.5) * HOUR
            if rng.random() < 0.04:
                if nxt >= now:
                    return finish()
                clock = nxt
                status, transitions = "void", transitions + 1
                c["closed_at"] = clock
                ev(clock, self.dispatcher, "reject", "new", "void", rng.choice(self.rejections))
                return finish()
            if nxt >= now:
                return finish()
            clock = nxt
            status, transitions = "pending_dispatch", transitions + 1
            c["category_id"] = cat.pk
            ev(
                clock,
                self.dispatcher,
                "accept",
                "new",
                "pending_dispatch",
                data="{}" if given else f'{{"category": "{cat.name}"}}',
            )
            nxt = clock + rng.uniform(0.1, 3) * HOUR
            if nxt >= now:
                return finish()
            clock = nxt
            rule = self.route.get(cat.pk)
            if rng.random() < 0.7 or rule is None or rule[1] == "grid":
                assigned_grid, to_name = grid.pk, grid.name
            else:
                assigned_dept = rule[2] if rng.random() < 0.8 else rng.choice(self.dept_ids)
                to_name = self.departments[assigned_dept]
            status, transitions = "pending_sign", transitions + 1
            c["dispatched_at"] = clock
            start_clock(clock)
            ev(
                clock,
                self.dispatcher,
                "dispatch",
                "pending_dispatch",
                "pending_sign",
                data=f'{{"to": "{to_name}"}}',
            )
        handler = (
            self.grid_worker.get(assigned_grid) if assigned_grid else self.dept_handler.get(assigned_dept)
        ) or self.dispatcher
        # -- 签收
        nxt = clock + rng.expovariate(1 / 3) * HOUR
        if nxt >= now:
            return finish()
        clock = nxt
        status, transitions = "in_progress", transitions + 1
        c["signed_at"] = clock
        c["assignee_id"] = handler[0]
        ev(clock, handler, "sign", "pending_sign", "in_progress")
        if rng.random() < 0.002:
            return finish()  # the backlog: never finished
        # -- extension
        if rng.random() < 0.06:
            nxt = clock + rng.uniform(12, 48) * HOUR
            if nxt >= now:
                return finish()
            if nxt < c["resolve_due_at"]:
                clock = nxt
                transitions += 1
                ev(
                    clock,
                    handler,
                    "request_extension",
                    "in_progress",
                    "in_progress",
                    "需协调多个部门，申请延期",
                    '{"hours": 72}',
                )
                nxt = clock + rng.uniform(1, 8) * HOUR
                if nxt >= now:
                    c["extension_pending"], c["extension_hours"] = True, 72
                    return finish()
                clock = nxt
                transitions += 1
                c["resolve_due_at"] += 72 * HOUR
                c["extension_count"] = 1
                ev(
                    clock,
                    self.dispatcher,
                    "approve_extension",
                    "in_progress",
                    "in_progress",
                    "同意延期",
                    f'{{"hours": 72, "resolve_due_at": "{dt(c["resolve_due_at"]).isoformat()}"}}',
                )
        # -- 办结 → 核查 → 评价 (with one possible rework round)
        for round_ in range(2):
            hours = (
                (rng.uniform(150, 400) if rng.random() < 0.12 else rng.expovariate(1 / 40))
                if round_ == 0
                else rng.uniform(24, 96)
            )
            nxt = clock + hours * HOUR
            if nxt >= now:
                return finish()
            clock = nxt
            status, transitions = "pending_verify", transitions + 1
            c["resolved_at"] = clock
            c["resolved_on_time"] = clock <= c["resolve_due_at"]
            note = rng.choice(self.resolutions[code])
            ev(
                clock,
                handler,
                "resolve",
                "in_progress",
                "pending_verify",
                ("返工后再次处置：" if round_ else "") + note,
            )
            nxt = clock + rng.uniform(0.5, 12) * HOUR
            if nxt >= now:
                return finish()
            clock = nxt
            status, transitions = "pending_rating", transitions + 1
            c["rating_due_at"] = clock + 72 * HOUR
            ev(clock, self.dispatcher, "verify", "pending_verify", "pending_rating")
            roll = rng.random()
            if roll < 0.15:
                nxt = c["rating_due_at"]
                if nxt >= now:
                    return finish()
                clock = nxt
                status, transitions = "closed", transitions + 1
                c["closed_at"], c["close_reason"], c["rating_due_at"] = clock, "unrated", None
                ev(clock, None, "auto_close", "pending_rating", "closed", "评价期满未评价")
                return finish()
            nxt = clock + rng.uniform(2, 40) * HOUR
            if nxt >= now:
                return finish()
            clock = nxt
            transitions += 1
            if round_ == 0 and roll > 0.93:
                status = "in_progress"
                c["rework_count"] += 1
                c["resolved_at"] = c["rating_due_at"] = None
                c["clock_started_at"] = clock
                c["resolve_due_at"] = self.add_limit(clock, limit[2], limit[0])
                ev(
                    clock,
                    None,
                    "rate",
                    "pending_rating",
                    "in_progress",
                    "",
                    '{"rating": "不满意"}',
                    public=True,
                )
                continue
            rating = "basic" if round_ or roll > 0.8 else "satisfied"
            status = "closed"
            c["rating"], c["close_reason"], c["closed_at"], c["rating_due_at"] = rating, "rated", clock, None
            ev(
                clock,
                None,
                "rate",
                "pending_rating",
                "closed",
                "",
                '{"rating": "%s"}' % ("基本满意" if rating == "basic" else "满意"),
                public=True,
            )
            return finish()
        return finish()

    def case_row(self, c: dict) -> tuple:
        d = self.case_defaults
        if self.phone_hash is not None:
            c["reporter_phone_hash"] = self.phone_hash(c["reporter_phone"])
        row = [c[k] if k in c else d[k] for k in self.case_columns]
        for i, f in self.custom_fields:
            row[i] = f.get_db_prep_save(row[i], self.connection)
        return tuple(row)

    def event_row(self, e: dict) -> tuple:
        d = self.event_defaults
        return tuple(e[k] if k in e else d[k] for k in self.event_columns)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- writers ---------------------------------------------------------------------------------------


SECONDARY_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = %s::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
    ORDER BY 1
"""


def reserve_case_ids(pg: Any, n: int) -> int:
    """Reserve case ids [last − n + 1, last]: move the sequence past the block (nothing else may insert
    meanwhile); returns ``last``."""
    with pg.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence('cases_case', 'id')")
        seq = cur.fetchone()[0]
        cur.execute(
            f"SELECT setval(%s, GREATEST((SELECT COALESCE(MAX(id), 0) FROM cases_case),"
            f" (SELECT last_value FROM {seq})) + %s)",
            [seq, n],
        )
        return int(cur.fetchone()[0])


def load_postgres(gen: Generator, args: argparse.Namespace) -> tuple[int, int]:
    """Fast mode (default): ONE transaction that drops the secondary indexes of cases_case and
    cases_caseevent, COPYs everything with foreign-key triggers off (session_replication_role =
    replica: every id comes from the database, so the rows are consistent by construction), rebuilds
    the indexes and commits. If anything fails, PostgreSQL rolls it all back, indexes included; while it
    runs the two tables are locked (ACCESS EXCLUSIVE). ``--safe``: per-batch transactions into the
    indexed tables with every foreign key checked (about 2.3k cases/s here)."""
    from django.db import connection
    from psycopg.copy import QueuedLibpqWriter

    connection.ensure_connection()
    pg = connection.connection  # the psycopg 3 connection under Django's wrapper
    last = reserve_case_ids(pg, args.n)
    pg.commit()
    first = last - args.n + 1
    fast = not args.safe
    print(
        f"ids {first:,}..{last:,} reserved; {'fast mode (one transaction, indexes rebuilt)' if fast else 'safe mode'},"
        f" batches of {args.batch:,}"
    )
    case_copy = f"COPY cases_case ({', '.join(gen.case_columns)}) FROM STDIN"
    event_copy = f"COPY cases_caseevent ({', '.join(gen.event_columns)}) FROM STDIN"
    times = gen.created_times(args.n)
    n_events = 0
    t_start = time.perf_counter()
    dropped: list[tuple[str, str]] = []
    cur = pg.cursor()  # Django leaves the connection in autocommit: transactions are explicit here
    cur.execute("SET synchronous_commit = off")
    cur.execute("BEGIN")
    if fast:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("LOCK TABLE cases_case, cases_caseevent IN ACCESS EXCLUSIVE MODE")
        for table in ("cases_case", "cases_caseevent"):
            cur.execute(SECONDARY_INDEXES, [table])
            dropped.extend(cur.fetchall())
        for name, _ in dropped:
            cur.execute(f"DROP INDEX {name}")
        print(f"  dropped {len(dropped)} secondary indexes (rebuilt at the end, same transaction)")
    for b in range(0, args.n, args.batch):
        t = time.perf_counter()
        cases, events = [], []
        for i in range(b, min(b + args.batch, args.n)):
            c, evs = gen.case(first + i, times[i])
            cases.append(gen.case_row(c))
            events.extend(gen.event_row(e) for e in evs)
        t_gen = time.perf_counter() - t
        with cur.copy(case_copy, writer=QueuedLibpqWriter(cur)) as cp:
            for row in cases:
                cp.write_row(row)
        if events:
            with cur.copy(event_copy, writer=QueuedLibpqWriter(cur)) as cp:
                for row in events:
                    cp.write_row(row)
        if not fast:
            cur.execute("COMMIT")
            cur.execute("BEGIN")
        n_events += len(events)
        done = min(b + args.batch, args.n)
        el = time.perf_counter() - t_start
        print(
            f"  {done:>9,} cases, {n_events:>10,} events  ({len(cases) / (time.perf_counter() - t):,.0f} cases/s"
            f" this batch, generate {t_gen:.1f} s; overall {done / el:,.0f} cases/s)",
            flush=True,
        )
    if fast:
        t = time.perf_counter()
        for _name, ddl in dropped:
            cur.execute(ddl)
        print(f"  rebuilt {len(dropped)} indexes in {time.perf_counter() - t:.1f} s", flush=True)
    cur.execute("COMMIT")
    cur.close()
    return args.n, n_events


def load_sqlite(gen: Generator, args: argparse.Namespace) -> tuple[int, int]:
    from django.db import connection, transaction

    from dualgrid.cases.models import Case

    ops = connection.ops
    first = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    times = gen.created_times(args.n)

    def adapt(v: object) -> object:
        return ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v

    case_sql = f"INSERT INTO cases_case ({', '.join(gen.case_columns)}) VALUES ({', '.join(['%s'] * len(gen.case_columns))})"
    event_sql = (
        f"INSERT INTO cases_caseevent ({', '.join(gen.event_columns)})"
        f" VALUES ({', '.join(['%s'] * len(gen.event_columns))})"
    )
    n_events = 0
    for b in range(0, args.n, args.batch):
        cases, events = [], []
        for i in range(b, min(b + args.batch, args.n)):
            c, evs = gen.case(first + i, times[i])
            cases.append([adapt(v) for v in gen.case_row(c)])
            events.extend([adapt(v) for v in gen.event_row(e)] for e in evs)
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(case_sql, cases)
            if events:
                cur.executemany(event_sql, events)
        n_events += len(events)
    return args.n, n_events


def summarize() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY 2 DESC")
        rows = cur.fetchall()
        total = sum(n for _, n in rows)
        print(f"cases in the database: {total:,}")
        for status, n in rows:
            print(f"  {status:<17}{n:>10,}  {100 * n / total:5.1f} %")
        cur.execute("SELECT deadline_state, count(*) FROM cases_case GROUP BY 1 ORDER BY 2 DESC")
        print("  deadline_state: " + ", ".join(f"{s}={n:,}" for s, n in cur.fetchall()))


if __name__ == "__main__":
    sys.exit(main())
