"""``dualgrid demo``: load a believable demo district (潼南-like) with accounts and 90 days of cases.

Cases are driven through the real services (routing, time limits, timeline) with a simulated clock,
so the demo's history is what the product itself would have recorded.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from shapely import Point
from shapely import wkt as shapely_wkt
from shapely.geometry import Polygon

from dualgrid.accounts.models import Role, User
from dualgrid.cases import services
from dualgrid.cases.models import Case, Category, HandlerKind, Rating, RoutingRule, Status
from dualgrid.cases.workflow import Action
from dualgrid.demo import geo, groupchat, people, places_extra, texts
from dualgrid.lib.errors import DomainError
from dualgrid.places.models import AdminUnit, Department, Grid, GridKind, UnitLevel
from dualgrid.places.selectors import grid_locator

CITY_CODE = "500100000000"

DEPARTMENTS = [
    ("GA", "区公安分局"),
    ("ZJ", "区住房城乡建委"),
    ("CG", "区城市管理局"),
    ("HB", "区生态环境局"),
    ("JT", "区交通运输委"),
    ("JW", "区教委"),
    ("RS", "区人力社保局"),
    ("SW", "区商务委"),
    ("WJ", "区卫生健康委"),
    ("MZ", "区民政局"),
    ("SJ", "区市场监管局"),
    ("YJ", "区应急管理局"),
    ("SL", "区水利局"),
    ("NY", "区农业农村委"),
    ("GH", "区规划自然资源局"),
    ("SF", "区司法局"),
    ("XF", "区信访办"),
    ("WL", "区文化旅游委"),
    ("GD", "国网潼南供电公司"),
    ("ZLS", "区自来水公司"),
    ("RQ", "区燃气公司"),
]

# category code → "grid" or a department code; categories without a rule wait for the dispatcher.
ROUTES = {
    "0103": "grid",
    "0104": "grid",
    "0301": "grid",
    "10": "grid",
    "12": "grid",
    "1105": "grid",
    "1405": "grid",
    "0802": "grid",
    "0803": "grid",
    "0101": "GH",
    "0102": "ZJ",
    "0201": "HB",
    "0202": "HB",
    "0203": "HB",
    "0204": "CG",
    "0302": "JT",
    "0303": "JT",
    "0304": "JT",
    "0402": "JW",
    "0501": "RS",
    "0502": "RS",
    "0601": "SJ",
    "0602": "SJ",
    "0603": "SJ",
    "0701": "WJ",
    "0703": "SJ",
    "0902": "GA",
    "0903": "GA",
    "1101": "YJ",
    "1102": "RQ",
    "1103": "GH",
    "1301": "ZLS",
    "1302": "GD",
    "1303": "ZJ",
    "1304": "JT",
    "1305": "CG",
    "1403": "NY",
    "1404": "SL",
}

GRID_KIND = {"城市社区网格": GridKind.URBAN, "农村网格": GridKind.RURAL, "专属网格": GridKind.EXCLUSIVE}


class Command(BaseCommand):
    help = "加载演示区县：区划、约400个网格、部门、各角色账号和90天约5000件事件"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", default="demo1234", help="所有演示账号的密码")
        parser.add_argument("--cases", type=int, default=5000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--residents", type=int, default=20000, help="实有人口数量")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--reset", action="store_true", help="清空已有演示数据后重建（仅限演示库）")

    def handle(self, *args: Any, **opts: Any) -> None:
        if len(opts["password"]) < 6:
            raise CommandError("密码至少6位")
        self.rng = random.Random(opts["seed"])
        self.password_hash = make_password(opts["password"])
        loaded = AdminUnit.objects.filter(code=CITY_CODE).exists()
        if loaded and opts["reset"]:
            self._reset()
            loaded = False
        if loaded:
            self.stdout.write("演示区县已存在，跳过加载（--reset 可重建）。")
            User.objects.filter(username__in=[u for u, _ in self._logins()]).update(
                password=self.password_hash
            )
            groupchat.load(random.Random(f"watch-{opts['seed']}"), self.stdout)
        else:
            started = time.monotonic()
            with transaction.atomic():
                county = self._places(opts["seed"])
                depts = self._departments(county)
                self._rules(depts)
                self._accounts(county, depts)
            grid_locator.invalidate()
            places_extra.load(random.Random(f"places-{opts['seed']}"), self.stdout)
            self.stdout.write(
                f"已建立区划、网格和账号，正在按真实流程生成 {opts['cases']} 件事件（约需2分钟）…"
            )
            self._cases(opts["cases"], opts["days"])
            people.load(self.rng, self.stdout, residents=opts["residents"])
            groupchat.load(random.Random(f"watch-{opts['seed']}"), self.stdout)
            # The cockpit reads daily figures the worker rolls up; count the demo's history now, so the
            # figures are there on the first look rather than a minute after the worker starts.
            from dualgrid.cockpit import rollup

            rollup.rebuild_all(settle_seconds=0)
            self.stdout.write(
                f"已加载演示区县：{Grid.objects.count()} 个网格，{Case.objects.count()} 件事件，"
                f"用时 {time.monotonic() - started:.0f} 秒。"
            )
        self._print_logins(opts["password"])

    # --- places ------------------------------------------------------------------------------------

    def _places(self, seed: int) -> AdminUnit:
        plan = geo.build_district(seed)
        city = AdminUnit.objects.create(code=CITY_CODE, name="重庆市", level=UnitLevel.CITY)
        county = AdminUnit.objects.create(
            code=plan.code12, name=plan.name, level=UnitLevel.COUNTY, parent=city, boundary=plan.polygon.wkt
        )
        grids: list[Grid] = []
        for town_plan in plan.towns:
            town = AdminUnit.objects.create(
                code=town_plan.code12,
                name=town_plan.name,
                level=UnitLevel.TOWN,
                parent=county,
                boundary=town_plan.polygon.wkt,
            )
            for village_plan in town_plan.villages:
                village = AdminUnit.objects.create(
                    code=village_plan.code12,
                    name=village_plan.name,
                    level=UnitLevel.VILLAGE,
                    parent=town,
                    boundary=village_plan.polygon.wkt,
                )
                grids.extend(
                    Grid(
                        code=g.code15,
                        name=g.name,
                        village=village,
                        town=town,
                        county=county,
                        kind=GRID_KIND.get(g.kind, GridKind.URBAN),
                        boundary=g.polygon.wkt,
                        households=g.households,
                        population=g.population,
                    )
                    for g in village_plan.grids
                )
        Grid.objects.bulk_create(grids)
        return county

    def _departments(self, county: AdminUnit) -> dict[str, Department]:
        return {
            code: Department.objects.create(code=code, name=name, unit=county, phone=f"023-4455{i:04d}")
            for i, (code, name) in enumerate(DEPARTMENTS)
        }

    def _rules(self, depts: dict[str, Department]) -> None:
        categories = {c.code: c for c in Category.objects.all()}
        for code, target in ROUTES.items():
            if code not in categories:
                continue
            if target == "grid":
                RoutingRule.objects.create(category=categories[code], handler=HandlerKind.GRID)
            else:
                RoutingRule.objects.create(
                    category=categories[code], handler=HandlerKind.DEPARTMENT, department=depts[target]
                )

    # --- accounts ----------------------------------------------------------------------------------

    def _user(self, username: str, role: str, name: str, **kw: Any) -> User:
        user = User(username=username, role=role, display_name=name, password=self.password_hash, **kw)
        user.phone = texts.random_phone(self.rng)
        user.save()
        return user

    def _accounts(self, county: AdminUnit, depts: dict[str, Department]) -> None:
        admin = self._user("admin", Role.ADMIN, "系统管理员", is_staff=True, is_superuser=True)
        admin.save()
        self._user("dispatcher", Role.DISPATCHER, "王调度", unit=county)
        self._user("calltaker", Role.CALLTAKER, "刘话务", unit=county)
        self._user("leader", Role.LEADER, "陈区长", unit=county)
        for i, town in enumerate(AdminUnit.objects.filter(level=UnitLevel.TOWN).order_by("code"), start=1):
            self._user(f"town{i}", Role.DISPATCHER, f"{town.name}平安办", unit=town)
        for code, dept in depts.items():
            self._user(f"dept_{code.lower()}", Role.HANDLER, texts.random_name(self.rng), department=dept)
        self._user("handler", Role.HANDLER, "赵处置", department=depts["ZJ"])
        grids = list(Grid.objects.order_by("code"))
        links = []
        for grid in grids:
            worker = self._user(f"wg{grid.code}", Role.GRIDWORKER, texts.random_name(self.rng))
            links.append(User.grids.through(user_id=worker.pk, grid_id=grid.pk))
        demo_grid = next((g for g in grids if g.name == "白兔村第5网格"), grids[len(grids) // 2])
        worker = self._user("gridworker", Role.GRIDWORKER, "陈俊光")
        links.append(User.grids.through(user_id=worker.pk, grid_id=demo_grid.pk))
        User.grids.through.objects.bulk_create(links)

    def _logins(self) -> list[tuple[str, str]]:
        demo_grid = Grid.objects.filter(workers__username="gridworker").first()
        town = User.objects.filter(username="town1").select_related("unit").first()
        return [
            ("admin", "系统管理员（/admin/ 配置）"),
            ("dispatcher", "区综治中心调度员"),
            ("calltaker", "话务受理员（电话登记）"),
            ("leader", "区领导（只读）"),
            ("town1", f"镇街调度员（{town.unit.name if town and town.unit else ''}）"),
            ("gridworker", f"网格员（{demo_grid.name if demo_grid else ''}）"),
            ("handler", "部门处置人员（区住房城乡建委）"),
        ]

    def _print_logins(self, password: str) -> None:
        self.stdout.write(f"演示账号（密码均为 {password}）：")
        for username, label in self._logins():
            self.stdout.write(f"  {username:<12} {label}")
        self.stdout.write("  其余：town1..town6 各镇街，dept_ga 等各部门，wg<网格编码> 每个网格一名网格员")

    # --- cases -------------------------------------------------------------------------------------

    def _random_point(self, polygon: Polygon) -> Point:
        minx, miny, maxx, maxy = polygon.bounds
        for _ in range(100):
            p = Point(self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
            if polygon.contains(p):
                return p
        return polygon.representative_point()

    def _cases(self, count: int, days: int) -> None:
        rng = self.rng
        real_now = timezone.now()
        grids = list(Grid.objects.select_related("village").order_by("code"))
        shapes = {g.pk: shapely_wkt.loads(g.boundary) for g in grids}
        weights = [max(g.population, 1) for g in grids]
        leaf_codes = texts.level2_codes()
        users = {
            "dispatcher": User.objects.get(username="dispatcher"),
            "calltaker": User.objects.get(username="calltaker"),
        }
        grid_workers = {
            gid: uid
            for uid, gid in User.grids.through.objects.filter(user__username__startswith="wg").values_list(
                "user_id", "grid_id"
            )
        }
        workers = {u.pk: u for u in User.objects.filter(role=Role.GRIDWORKER)}
        handlers: dict[int, User] = {
            u.department_id: u
            for u in User.objects.filter(role=Role.HANDLER, username__startswith="dept_")
            if u.department_id is not None
        }
        starts = sorted(real_now - timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(count))
        for i in range(0, count, 250):
            if i and i % 1000 == 0:
                self.stdout.write(f"  已生成 {i}/{count} 件事件…")
                self.stdout.flush()
            with transaction.atomic():
                for created_at in starts[i : i + 250]:
                    created_at = self._office_hours(created_at)
                    if created_at >= real_now:
                        created_at = real_now - timedelta(minutes=rng.randint(5, 120))
                    grid = rng.choices(grids, weights)[0]
                    point = self._random_point(shapes[grid.pk])
                    code = rng.choice(leaf_codes)
                    report = texts.make_report(rng, code, grid.name.split("第")[0])
                    channel = (
                        report.channel
                        if report.channel in {"web", "hotline", "patrol", "group", "12345"}
                        else "web"
                    )
                    # About a fifth of residents leave the category to the centre.
                    category_code = code if rng.random() > 0.2 else None
                    actor = None if channel == "web" else users["calltaker"]
                    try:
                        case, _ = services.case_create(
                            actor=actor,
                            data=services.CaseInput(
                                title=report.title,
                                description=report.description,
                                channel=channel,
                                reporter_name=report.reporter_name,
                                reporter_phone=report.reporter_phone,
                                lat=point.y,
                                lng=point.x,
                                address=report.address,
                                category_code=category_code,
                                urgency="urgent"
                                if code.startswith("15") or rng.random() < 0.05
                                else "normal",
                            ),
                            now=created_at,
                        )
                    except DomainError as exc:
                        self.stderr.write(f"跳过一条演示事件：{exc.message}")
                        continue
                    self._progress(case, code, created_at, real_now, users, workers, grid_workers, handlers)
        self._showcase(real_now)
        services.deadline_sweep(now=real_now, batch=count)
        # Cases whose rating window ran out during the simulated months close when it ran out, as the
        # worker (every 30 s) would have closed them — not all at once today, which would read as a
        # day with hundreds of closures on the cockpit.
        expired = Case.objects.filter(status=Status.PENDING_RATING, rating_due_at__lte=real_now)
        for case_id, due in expired.values_list("pk", "rating_due_at"):
            services.rating_sweep_one(case_id, now=due or real_now)

    def _showcase(self, real_now: datetime) -> None:
        """Fresh cases for the printed logins (`gridworker`, `handler`), so they open on real work."""
        worker = User.objects.get(username="gridworker")
        grid = worker.grids.first()
        if grid is None:
            return
        point = shapely_wkt.loads(grid.boundary).representative_point()
        stories = [
            ("1001", "group", "9社龚氏兄弟因堰塘使用又打起来了哦，网格员快来看看", "龚大姐", 35, None),
            ("0301", "patrol", "村委会门口车辆乱停，挡住了校车通道，请协调挪车", "", 300, "sign"),
            ("1303", "hotline", "下水管堵塞屋里灌水，已经淹到床脚了，请尽快派人疏通", "李婆婆", 20, None),
        ]
        for code, channel, text, name, minutes_ago, then in stories:
            when = real_now - timedelta(minutes=minutes_ago)
            case, _ = services.case_create(
                actor=None if channel == "group" else User.objects.get(username="calltaker"),
                data=services.CaseInput(
                    description=text,
                    channel=channel,
                    reporter_name=name,
                    reporter_phone=texts.random_phone(self.rng),
                    lat=point.y,
                    lng=point.x,
                    address=f"{grid.name.split('第')[0]}9社",
                    category_code=code,
                ),
                now=when,
            )
            if then == "sign" and case.assigned_grid_id == grid.pk:
                services.case_transition(
                    actor=worker,
                    case_id=case.pk,
                    action="sign",
                    version=case.version,
                    now=when + timedelta(minutes=20),
                )

    def _office_hours(self, when: datetime) -> datetime:
        local = timezone.localtime(when)
        if local.hour < 7 or local.hour > 22:
            local = local.replace(hour=self.rng.randint(8, 21))
        return local

    def _progress(
        self,
        case: Case,
        code: str,
        created_at: datetime,
        real_now: datetime,
        users: dict[str, User],
        workers: dict[int, User],
        grid_workers: dict[int, int],
        handlers: dict[int, User],
    ) -> None:
        """Walk a case forward the way a district would, never past the real clock."""
        rng = self.rng
        clock = created_at
        age_days = (real_now - created_at).total_seconds() / 86400
        dispatcher = users["dispatcher"]

        def step(actor: User | None, action: str, after_hours: float, note: str = "", **params: Any) -> bool:
            nonlocal case, clock
            nxt = clock + timedelta(hours=after_hours)
            if nxt >= real_now:
                return False
            try:
                case = services.case_transition(
                    actor=actor,
                    case_id=case.pk,
                    action=action,
                    version=case.version,
                    note=note,
                    params=params,
                    public=actor is None,
                    now=nxt,
                )
            except DomainError:
                return False  # e.g. too late to ask for an extension: the story takes another turn
            clock = nxt
            return True

        if case.status == Status.NEW:
            if rng.random() < 0.04:
                step(dispatcher, Action.REJECT, rng.uniform(0.2, 3), texts.make_rejection_reason(rng))
                return
            if not step(dispatcher, Action.ACCEPT, rng.uniform(0.1, 2), category_code=code):
                return
            if case.grid_id and (rng.random() < 0.7 or code not in ROUTES):
                target: dict[str, Any] = {"grid_id": case.grid_id}
            else:
                target = {"department_id": rng.choice(list(handlers))}
            if not step(dispatcher, Action.DISPATCH, rng.uniform(0.1, 3), **target):
                return
        handler = self._handler_for(case, workers, grid_workers, handlers)
        if handler is None:
            return
        if rng.random() < 0.03:
            # 退回 and 再派: the centre sends it to a department instead.
            if not step(handler, Action.RETURN, rng.uniform(0.5, 6), "经核实不属于本单位职责，请重新派单"):
                return
            if not step(
                dispatcher, Action.DISPATCH, rng.uniform(0.5, 4), department_id=rng.choice(list(handlers))
            ):
                return
            handler = self._handler_for(case, workers, grid_workers, handlers)
            if handler is None:
                return
        if not step(handler, Action.SIGN, rng.expovariate(1 / 3)):
            return
        slow = rng.random() < 0.12
        if rng.random() < 0.06 and step(
            handler, Action.REQUEST_EXTENSION, rng.uniform(12, 48), "需协调多个部门，申请延期", hours=72
        ):
            if not step(dispatcher, Action.APPROVE_EXTENSION, rng.uniform(1, 8), "同意延期"):
                return
        resolve_hours = rng.uniform(150, 400) if slow else rng.expovariate(1 / 40)
        if not step(handler, Action.RESOLVE, resolve_hours, texts.make_resolution_note(rng, code)):
            return
        if not step(dispatcher, Action.VERIFY, rng.uniform(0.5, 12)):
            return
        roll = rng.random()
        if roll < 0.15 or age_days < 1:
            return  # still waiting for the resident; the worker closes it when the window passes
        rating = Rating.SATISFIED if roll < 0.8 else Rating.BASIC if roll < 0.93 else Rating.UNSATISFIED
        if not step(None, Action.RATE, rng.uniform(2, 40), "", rating=rating):
            return
        if rating == Rating.UNSATISFIED:
            if step(
                handler,
                Action.RESOLVE,
                rng.uniform(24, 96),
                "返工后再次处置：" + texts.make_resolution_note(rng, code),
            ):
                if step(dispatcher, Action.VERIFY, rng.uniform(1, 8)):
                    step(None, Action.RATE, rng.uniform(2, 30), "", rating=Rating.BASIC)

    def _handler_for(
        self, case: Case, workers: dict[int, User], grid_workers: dict[int, int], handlers: dict[int, User]
    ) -> User | None:
        if case.assigned_grid_id:
            uid = grid_workers.get(case.assigned_grid_id)
            return workers.get(uid) if uid else None
        if case.assigned_department_id:
            return handlers.get(case.assigned_department_id)
        return None

    def _reset(self) -> None:
        from dualgrid.cases.models import CaseAttachment, CaseEvent

        with transaction.atomic():
            groupchat.reset()  # group messages and patrol logs point at users, chat groups and cases
            people.reset()  # visits, assignments and residents point at cases, users and grids
            places_extra.reset()  # micro-grids protect their grids
            CaseAttachment.objects.all().delete()
            CaseEvent.objects.all().delete()
            Case.objects.all().delete()
            RoutingRule.objects.all().delete()
            User.objects.all().delete()
            Department.objects.all().delete()
            Grid.objects.all().delete()
            for level in (UnitLevel.VILLAGE, UnitLevel.TOWN, UnitLevel.COUNTY, UnitLevel.CITY):
                AdminUnit.objects.filter(level=level).delete()
