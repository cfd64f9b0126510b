"""The people of the demo district: staff with their history, ~20,000 residents in ~7,500 households
with valid ID numbers, tags, rental houses, shops, key places and a season (90 days) of visits.

``load(rng, stdout)`` runs after the demo district and its accounts exist (``dualgrid demo``); it
writes with ``bulk_create`` (the encrypted fields encrypt on the way in) and takes well under a
minute on SQLite. ``reset()`` removes it again before the district itself is deleted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.demo import texts
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.idcard import make_id
from dualgrid.people import services
from dualgrid.people.models import (
    Assignment,
    BusinessCategory,
    BusinessPremise,
    Concern,
    Gender,
    Household,
    KeyPlace,
    KeyPlaceKind,
    PostName,
    RentalHouse,
    Resident,
    ResidentTag,
    Staff,
    StaffRole,
    Tag,
    Visit,
    VisitKind,
)
from dualgrid.people.visit_rules import SHANGHAI, local_today, week_start
from dualgrid.places.models import Grid, GridKind

AREA = "500152"
TARGET_RESIDENTS = 20_000
SEASON_DAYS = 90
REPLACED_SHARE = 0.10
TAGGED_SHARE = 0.08
DEMO_GRID = "白兔村第5网格"  # the printed `gridworker` login serves it (see the demo command)

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
)
OLD_MALE = "建国 德明 国平 世平 家福 长林 德才 正清 光荣 学文 中华 兴旺 永福 金山 玉成 树林".split()
OLD_FEMALE = "秀英 桂英 秀兰 玉兰 淑芬 桂芳 素芳 德芬 群英 明英 德秀 翠华 春兰 素珍 玉珍".split()
MID_MALE = "志强 建军 文斌 俊杰 小龙 勇 军 强 磊 涛 斌 波 刚 伟 明 洪 凯 鹏".split()
MID_FEMALE = "晓燕 小红 春梅 海燕 丽君 文静 雪梅 丽 敏 静 燕 霞 芳 娟 玲 艳 萍 红梅".split()
YOUNG_MALE = "子豪 浩然 宇航 志鹏 俊熙 梓轩 宇轩 浩宇 一鸣 博文 皓轩 思远".split()
YOUNG_FEMALE = "思雨 欣怡 梦琪 佳怡 紫涵 雨欣 子涵 诗涵 可馨 雨桐 梓萱 若曦".split()
MINORITIES = ["土家族", "苗族", "回族", "彝族"]
FEMALE_GIVEN = set(OLD_FEMALE + MID_FEMALE + YOUNG_FEMALE)

CARE_TEXTS = [
    "老人身体状况良好，生活能自理，家中米面油充足",
    "血压偏高，已提醒按时服药，定期到卫生室测量",
    "询问近期饮食起居，情况正常",
    "天气转凉，提醒添衣保暖、注意用火用电安全",
    "帮助联系村医上门随访",
    "子女在外务工，已电话告知老人近况",
    "孩子学习、生活正常，每周与父母视频联系",
    "了解低保政策落实情况，按时足额领取",
    "行动不便，协助代购生活用品",
    "家中燃气灶软管老化，已提醒更换",
    "情绪稳定，与邻里相处融洽",
    "代办医保缴费，已办结",
]
SPECIAL_TEXTS = [
    "按期见面谈话，思想稳定，在本地务工",
    "家属反映情况正常，按时服药",
    "近期无异常活动，已提醒遵守相关规定",
    "了解就业意向，推荐到园区企业面试",
]
FOUND_PROBLEMS = [
    "老人家中电线老化裸露，存在触电隐患，需供电所上门检修",
    "屋顶瓦片破损漏雨，老人无力修缮，请求帮助",
    "留守儿童近一周未到校，家中无人照看",
    "独居老人反映自来水停水三天，生活用水困难",
    "房前堡坎出现裂缝，雨后有垮塌风险",
    "老人反映低保金本月未到账",
]
SHOP_NAMES = [
    ("{s}记面馆", BusinessCategory.CATERING),
    ("{s}家小炒", BusinessCategory.CATERING),
    ("{v}便民超市", BusinessCategory.RETAIL),
    ("{s}氏五金", BusinessCategory.RETAIL),
    ("{v}农资店", BusinessCategory.RETAIL),
    ("{s}姐理发店", BusinessCategory.SERVICE),
    ("{v}快递驿站", BusinessCategory.SERVICE),
    ("{v}宾馆", BusinessCategory.LODGING),
    ("{s}记麻将馆", BusinessCategory.ENTERTAINMENT),
    ("{v}粮油加工坊", BusinessCategory.PROCESSING),
]
KEY_PLACES_URBAN = [
    ("{v}幼儿园", KeyPlaceKind.SCHOOL),
    ("{v}卫生服务站", KeyPlaceKind.HOSPITAL),
    ("{v}农贸市场", KeyPlaceKind.MARKET),
    ("{v}加油站", KeyPlaceKind.FUEL),
    ("{v}养老服务中心", KeyPlaceKind.ELDERLY),
    ("{v}滨江公园", KeyPlaceKind.SCENIC),
]
KEY_PLACES_RURAL = [
    ("{v}小学", KeyPlaceKind.SCHOOL),
    ("{v}卫生室", KeyPlaceKind.HOSPITAL),
    ("{v}堰塘", KeyPlaceKind.WATER),
    ("{v}山坪塘", KeyPlaceKind.WATER),
    ("{v}敬老院", KeyPlaceKind.ELDERLY),
]


def _village(grid: Grid) -> str:
    return grid.name.split("第")[0]


@dataclass
class Person:
    name: str
    male: bool
    birth: date


@dataclass
class Maker:
    """Names, unique valid ID numbers and phones from one random stream."""

    rng: random.Random
    today: date
    used_ids: set[str] = field(default_factory=set)

    def name(self, male: bool, age: int) -> str:
        surname = self.rng.choice(SURNAMES)
        if age >= 55:
            pool = OLD_MALE if male else OLD_FEMALE
        elif age >= 22:
            pool = MID_MALE if male else MID_FEMALE
        else:
            pool = YOUNG_MALE if male else YOUNG_FEMALE
        return surname + self.rng.choice(pool)

    def person(self, age: int, male: bool | None = None) -> Person:
        male = self.rng.random() < 0.5 if male is None else male
        birth = self.today - timedelta(days=age * 365 + self.rng.randrange(365))
        return Person(self.name(male, age), male, birth)

    def id_number(self, person: Person) -> str:
        while True:
            seq = self.rng.randrange(500) * 2 + (1 if person.male else 0)
            number = make_id(AREA, person.birth, seq)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        return texts.random_phone(self.rng)


def _progress(stdout: Any, message: str) -> None:
    stdout.write(message)
    stdout.flush()


# --- staff -------------------------------------------------------------------------------------------


def _is_female_name(name: str) -> bool:
    given = name[1:]
    return given in FEMALE_GIVEN or given in texts._GIVEN_FEMALE


def _staff_row(maker: Maker, age: int, user: User | None = None, male: bool | None = None) -> Staff:
    if user is not None and user.display_name:
        male = not _is_female_name(user.display_name)
    person = maker.person(age, male)
    if user is not None and user.display_name:
        person.name = user.display_name
    phone, id_number = maker.phone(), maker.id_number(person)
    return Staff(
        name=person.name,
        gender=Gender.MALE if person.male else Gender.FEMALE,
        phone=phone,
        phone_hash=keyed_hash(phone),
        id_number=id_number,
        id_number_hash=keyed_hash(id_number),
        user=user,
    )


def _staff(
    rng: random.Random, maker: Maker, grids: list[Grid], today: date, password: str
) -> dict[int, list[tuple[date, date | None, int]]]:
    """Every grid gets 1 网格长 and 1–2 网格员 (the demo accounts), ~10 % a replacement in the last
    90 days; some grids an instructor or a forest ranger. Returns, per grid, the periods during which
    each account served it: (start, end, user id), for the visits."""
    roles = {r.code: r for r in StaffRole.objects.all()}
    posts = {p.name: p for p in PostName.objects.all()}
    accounts = {u.username: u for u in User.objects.filter(role=Role.GRIDWORKER)}
    people: list[Staff] = []
    plans: list[
        tuple[int, Grid, str, date, date | None, str, str]
    ] = []  # staff index, grid, role, start, end, reason, note
    departed_users: list[User] = []
    replaced = set(rng.sample(range(len(grids)), k=round(len(grids) * REPLACED_SHARE)))

    def add(staff: Staff) -> int:
        people.append(staff)
        return len(people) - 1

    for i, grid in enumerate(grids):
        leader = add(_staff_row(maker, rng.randint(38, 58)))
        plans.append(
            (leader, grid, "grid_leader", today - timedelta(days=rng.randint(400, 2400)), None, "", "")
        )
        worker_user = accounts.get(f"wg{grid.code}")
        current_start = today - timedelta(days=rng.randint(120, 1800))
        note = ""
        if i in replaced:
            current_start = today - timedelta(days=rng.randint(5, SEASON_DAYS - 2))
            # The person who left keeps a disabled account (history and visits point at it), no grids.
            old_user = User(
                username=f"wgx{grid.code}",
                role=Role.GRIDWORKER,
                display_name=maker.name(rng.random() < 0.5, 40),
                password=password,
                is_active=False,
            )
            departed_users.append(old_user)
            old = add(_staff_row(maker, rng.randint(30, 55), old_user))
            people[old].active = rng.random() < 0.5
            reason = rng.choice(["调任镇便民服务中心", "辞职", "考取事业编制", "家庭原因辞职", "到龄退出"])
            note = f"接替{old_user.display_name}：{reason}"
            plans.append(
                (
                    old,
                    grid,
                    "full_time",
                    current_start - timedelta(days=rng.randint(400, 2000)),
                    current_start,
                    reason,
                    "",
                )
            )
        if worker_user is not None:
            worker = add(_staff_row(maker, rng.randint(24, 50), worker_user))
            plans.append((worker, grid, "full_time", current_start, None, "", note))
        if grid.name == DEMO_GRID and "gridworker" in accounts:
            extra = add(_staff_row(maker, 32, accounts["gridworker"], male=True))
            plans.append((extra, grid, "part_time", today - timedelta(days=400), None, "", ""))
        elif rng.random() < 0.5:
            extra = add(_staff_row(maker, rng.randint(25, 60)))
            plans.append(
                (extra, grid, "part_time", today - timedelta(days=rng.randint(60, 1500)), None, "", "")
            )
        if rng.random() < 0.2:
            helper = add(_staff_row(maker, rng.randint(35, 60)))
            plans.append(
                (helper, grid, "instructor", today - timedelta(days=rng.randint(100, 900)), None, "", "")
            )
        if grid.kind == GridKind.RURAL and rng.random() < 0.3:
            ranger = add(_staff_row(maker, rng.randint(45, 62), male=True))
            plans.append(
                (ranger, grid, "forest_ranger", today - timedelta(days=rng.randint(100, 2000)), None, "", "")
            )

    User.objects.bulk_create(departed_users, batch_size=500)  # sets their ids on the staff rows below
    Staff.objects.bulk_create(people, batch_size=1000)
    post_for = {
        "grid_leader": posts.get("村（社区）网格长"),
        "full_time": posts.get("专职网格员"),
        "part_time": posts.get("兼职网格员"),
        "instructor": posts.get("网格指导员"),
    }
    Assignment.objects.bulk_create(
        [
            Assignment(
                staff=people[index],
                grid=grid,
                role=roles[role],
                post_name=post_for.get(role),
                start_date=start,
                end_date=end,
                end_reason=reason,
                note=note,
            )
            for index, grid, role, start, end, reason, note in plans
        ],
        batch_size=1000,
    )
    served: dict[int, list[tuple[date, date | None, int]]] = {}
    for index, grid, role, start, end, _, _ in plans:
        user = people[index].user
        if user is not None and roles[role].grants_access:
            served.setdefault(grid.pk, []).append((start, end, user.pk))
    return served


# --- residents ---------------------------------------------------------------------------------------


def _household_sizes(rng: random.Random, residents: int) -> Iterator[int]:
    left = residents
    while left > 0:
        size = min(left, rng.choices([1, 2, 3, 4, 5], weights=[17, 30, 24, 18, 11])[0])
        left -= size
        yield size


def _members(rng: random.Random, maker: Maker, size: int, rural: bool) -> list[tuple[Person, str]]:
    """(person, relation) for one household; a single-person household is often an elder living alone."""
    if size == 1:
        age = rng.randint(66, 92) if rng.random() < 0.6 else rng.randint(22, 65)
        return [(maker.person(age), "self")]
    head_age = rng.randint(28, 80)
    head = maker.person(head_age, male=rng.random() < 0.7)
    out = [(head, "head")]
    out.append((maker.person(max(20, head_age + rng.randint(-4, 3)), male=not head.male), "spouse"))
    while len(out) < size:
        if head_age >= 58 and rng.random() < 0.5:
            # Grandchildren left with grandparents (parents away at work): the 留守儿童 of the seeds.
            out.append((maker.person(rng.randint(3, 15)), "grandchild" if rural else "child"))
        elif head_age < 58:
            out.append((maker.person(max(0, head_age - rng.randint(22, 34))), "child"))
        else:
            out.append((maker.person(max(18, head_age - rng.randint(24, 32))), "child"))
    return out


def _address(rng: random.Random, grid: Grid, n: int) -> tuple[str, str]:
    village = _village(grid)
    if grid.kind == GridKind.RURAL:
        return f"{village}{rng.randint(1, 12)}社", f"{n}号"
    return (
        f"{village}{rng.randint(1, 30)}栋",
        f"{rng.randint(1, 4)}-{rng.randint(1, 18)}{rng.randint(1, 4):02d}",
    )


def _residents(
    rng: random.Random, maker: Maker, grids: list[Grid], target: int
) -> list[tuple[Resident, str]]:
    """Households and residents by grid population; returns (resident, relation) for tagging."""
    total = sum(max(g.population, 1) for g in grids)
    households: list[Household] = []
    plans: list[tuple[int, Grid, list[tuple[Person, str]]]] = []
    for grid in grids:
        quota = max(3, round(target * max(grid.population, 1) / total))
        rural = grid.kind == GridKind.RURAL
        for n, size in enumerate(_household_sizes(rng, quota), start=1):
            members = _members(rng, maker, size, rural)
            address, house = _address(rng, grid, n)
            households.append(
                Household(grid=grid, address=address, house_number=house, head_name=members[0][0].name)
            )
            plans.append((len(households) - 1, grid, members))
    Household.objects.bulk_create(households, batch_size=2000)
    rows: list[tuple[Resident, str]] = []
    for index, grid, members in plans:
        for person, relation in members:
            id_number = maker.id_number(person)
            age = (maker.today - person.birth).days // 365
            phone = maker.phone() if age >= 16 and rng.random() < 0.85 else ""
            rows.append(
                (
                    Resident(
                        household=households[index],
                        grid=grid,
                        name=person.name,
                        gender=Gender.MALE if person.male else Gender.FEMALE,
                        birth_date=person.birth,
                        id_number=id_number,
                        id_number_hash=keyed_hash(id_number),
                        phone=phone,
                        phone_hash=keyed_hash(phone),
                        ethnicity="汉族" if rng.random() > 0.015 else rng.choice(MINORITIES),
                    ),
                    relation,
                )
            )
    Resident.objects.bulk_create([r for r, _ in rows], batch_size=2000)
    return rows


def _tags(rng: random.Random, rows: list[tuple[Resident, str]], today: date) -> list[ResidentTag]:
    tags = {(t.group, t.code): t for t in Tag.objects.all()}
    chosen: list[ResidentTag] = []
    target = round(len(rows) * TAGGED_SHARE)
    households: dict[int | None, int] = {}
    for resident, _ in rows:
        households[resident.household_id] = households.get(resident.household_id, 0) + 1

    def since() -> date:
        if rng.random() < 0.06:
            return today - timedelta(days=rng.randint(3, SEASON_DAYS - 10))  # tagged during the season
        return today - timedelta(days=rng.randint(SEASON_DAYS + 7, 1200))

    def tag(resident: Resident, key: tuple[str, str], level: str = Concern.NORMAL) -> None:
        chosen.append(ResidentTag(resident=resident, tag=tags[key], level=level, since=since()))

    order = list(rows)
    rng.shuffle(order)
    tagged: set[int] = set()
    for resident, relation in order:
        if len(tagged) >= target:
            break
        assert resident.birth_date is not None
        age = (today - resident.birth_date).days // 365
        roll = rng.random()
        key: tuple[str, str] | None = None
        if age >= 65 and households[resident.household_id] == 1 and roll < 0.8:
            key = ("care", "01")
        elif relation == "grandchild" and roll < 0.6:
            key = ("care", "02")
        elif age < 16 and roll < 0.01:
            key = ("care", "03")
        elif age >= 70 and roll < 0.16:
            key = rng.choice([("care", "04"), ("care", "06"), ("care", "07")])
        elif resident.gender == Gender.FEMALE and 22 <= age <= 38 and roll < 0.02:
            key = ("care", "05")
        elif 20 <= age <= 60 and roll < 0.006:
            key = ("special", rng.choice(["01", "02", "03", "04", "04", "06"]))
        elif age >= 18 and roll < 0.022:
            key = rng.choice([("care", "08"), ("care", "08"), ("care", "09"), ("care", "07"), ("care", "06")])
        elif 14 <= age <= 20 and roll < 0.02:
            key = ("youth", rng.choice(["01", "02"]))
        if key is None:
            continue
        level = Concern.NORMAL
        if key[0] != "care":
            level = rng.choices([Concern.NORMAL, Concern.MEDIUM, Concern.SEVERE], weights=[60, 30, 10])[0]
        tag(resident, key, level)
        tagged.add(resident.pk)
        if key == ("care", "01") and rng.random() < 0.3:
            tag(resident, rng.choice([("care", "06"), ("care", "04"), ("care", "08")]))
    # The printed `gridworker` login opens on a full week: tag more of its grid's elders and children.
    showcase = [(r, rel) for r, rel in rows if r.grid.name == DEMO_GRID and r.pk not in tagged]
    showcase.sort(key=lambda pair: pair[0].birth_date or today)
    wanted = max(0, 14 - sum(1 for rt in chosen if rt.resident.grid.name == DEMO_GRID))
    picks = showcase[: wanted // 2] + [p for p in showcase if p[1] == "grandchild"][: wanted - wanted // 2]
    for resident, relation in picks:
        if resident.pk in tagged:
            continue
        elder = [("care", "01"), ("care", "04"), ("care", "06")]
        tag(resident, ("care", "02") if relation == "grandchild" else rng.choice(elder))
        tagged.add(resident.pk)
    ResidentTag.objects.bulk_create(chosen, batch_size=2000)
    return chosen


# --- places ------------------------------------------------------------------------------------------


def _places(rng: random.Random, maker: Maker, grids: list[Grid]) -> tuple[int, int, int]:
    rentals: list[RentalHouse] = []
    shops: list[BusinessPremise] = []
    key_places: list[KeyPlace] = []
    for grid in grids:
        village = _village(grid)
        urban = grid.kind != GridKind.RURAL
        for _ in range(rng.randint(2, 8) if urban else rng.randint(0, 3)):
            phone = maker.phone()
            address, house = _address(rng, grid, rng.randint(1, 80))
            rentals.append(
                RentalHouse(
                    grid=grid,
                    address=f"{address}{house}",
                    landlord_name=maker.name(rng.random() < 0.6, 50),
                    landlord_phone=phone,
                    landlord_phone_hash=keyed_hash(phone),
                    tenants=rng.randint(1, 6),
                )
            )
        for _ in range(rng.randint(3, 9) if urban else rng.randint(1, 4)):
            template, category = rng.choice(SHOP_NAMES)
            phone = maker.phone()
            owner = maker.name(rng.random() < 0.5, 45)
            shops.append(
                BusinessPremise(
                    grid=grid,
                    name=template.format(s=owner[0], v=village),
                    address=_address(rng, grid, rng.randint(1, 80))[0] + "临街门面",
                    category=category,
                    licence_no=f"92500152MA{rng.randrange(10**7):07d}{rng.choice('0123456789ABCDEFGHJK')}",
                    contact_name=owner,
                    contact_phone=phone,
                    contact_phone_hash=keyed_hash(phone),
                )
            )
        pool = KEY_PLACES_URBAN if urban else KEY_PLACES_RURAL
        for template, kind in rng.sample(pool, k=rng.randint(0, 2)):
            phone = maker.phone()
            key_places.append(
                KeyPlace(
                    grid=grid,
                    name=template.format(v=village),
                    kind=kind,
                    address=_address(rng, grid, rng.randint(1, 80))[0],
                    contact_name=maker.name(rng.random() < 0.5, 45),
                    contact_phone=phone,
                    contact_phone_hash=keyed_hash(phone),
                )
            )
    RentalHouse.objects.bulk_create(rentals, batch_size=2000)
    BusinessPremise.objects.bulk_create(shops, batch_size=2000)
    KeyPlace.objects.bulk_create(key_places, batch_size=2000)
    return len(rentals), len(shops), len(key_places)


# --- visits ------------------------------------------------------------------------------------------


def _visitor(served: list[tuple[date, date | None, int]], day: date, rng: random.Random) -> int | None:
    on_duty = [u for start, end, u in served if start <= day and (end is None or day < end)]
    return rng.choice(on_duty) if on_duty else None


def _at(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=SHANGHAI)


def _visits(
    rng: random.Random,
    tagged: list[ResidentTag],
    served: dict[int, list[tuple[date, date | None, int]]],
    today: date,
    now: datetime,
) -> int:
    """A season of visits: weekly for care groups with a diligence that varies by grid (so compliance
    differs and some people are overdue now), about monthly for the others."""
    diligence: dict[int, float] = {}
    people: dict[int, tuple[Resident, int, date]] = {}
    for rt in tagged:
        period = rt.tag.visit_every_days
        if period <= 0:
            continue
        known = people.get(rt.resident.pk)
        if known is None or period < known[1]:
            people[rt.resident.pk] = (rt.resident, period, rt.since)
    first_monday = week_start(today - timedelta(days=SEASON_DAYS))
    visits: list[Visit | None] = []
    for resident, period, since in people.values():
        grid_id = resident.grid_id
        choices = [0.97, 0.95, 0.92, 0.9, 0.86, 0.8, 0.7, 0.55]
        base = diligence.setdefault(grid_id, 0.8 if resident.grid.name == DEMO_GRID else rng.choice(choices))
        personal = min(0.99, base * rng.uniform(0.9, 1.08))
        texts_pool = CARE_TEXTS if period == 7 else SPECIAL_TEXTS
        if period == 7:
            monday = max(first_monday, week_start(since))
            while monday <= today:
                if rng.random() < personal:
                    day = monday + timedelta(
                        days=min(rng.choices(range(7), weights=[14, 20, 20, 18, 16, 8, 4])[0], 6)
                    )
                    if since <= day <= today:
                        visits.append(_visit(rng, resident, day, served.get(grid_id, []), texts_pool, now))
                monday += timedelta(days=7)
        else:
            day = max(since, today - timedelta(days=SEASON_DAYS)) + timedelta(days=rng.randint(0, 20))
            while day <= today:
                if rng.random() < personal:
                    visits.append(_visit(rng, resident, day, served.get(grid_id, []), texts_pool, now))
                day += timedelta(days=rng.randint(24, 36))
    kept = [v for v in visits if v is not None and v.visited_at <= now]
    Visit.objects.bulk_create(kept, batch_size=2000)
    return len(kept)


def _visit(
    rng: random.Random,
    resident: Resident,
    day: date,
    served: list[tuple[date, date | None, int]],
    pool: list[str],
    now: datetime,
) -> Visit | None:
    """One visit on ``day`` by an account serving the grid that day (None when nobody with an account did)."""
    visitor = _visitor(served, day, rng)
    if visitor is None:
        return None
    at = _at(rng, day)
    if at > now:
        at = now - timedelta(minutes=rng.randint(10, 180))
    kind = rng.choices([VisitKind.HOME, VisitKind.PHONE, VisitKind.VIDEO], weights=[70, 25, 5])[0]
    return Visit(
        resident=resident,
        grid_id=resident.grid_id,
        visitor_id=visitor,
        visited_at=at,
        kind=kind,
        found=rng.choice(pool),
    )


def _raised_cases(rng: random.Random, tagged: list[ResidentTag], now: datetime) -> int:
    """A few recent visits found a problem and raised a case, through the real service."""
    workers = {
        gid: u
        for u in User.objects.filter(role=Role.GRIDWORKER, is_active=True).prefetch_related("grids")
        for gid in (g.pk for g in u.grids.all())
    }
    care = [rt.resident for rt in tagged if rt.tag.group == "care" and rt.resident.grid_id in workers]
    raised = 0
    for resident in rng.sample(care, k=min(6, len(care))):
        when = now - timedelta(hours=rng.randint(3, 60))
        services.visit_log(
            actor=workers[resident.grid_id],
            data=services.VisitInput(
                resident_id=resident.pk, found=rng.choice(FOUND_PROBLEMS), raise_case=True
            ),
            now=when,
        )
        raised += 1
    return raised


# --- entry points ------------------------------------------------------------------------------------


def load(rng: random.Random, stdout: Any, *, residents: int = TARGET_RESIDENTS) -> None:
    started = time.monotonic()
    today = local_today()
    now = timezone.now()
    maker = Maker(rng=rng, today=today)
    grids = list(Grid.objects.filter(active=True).order_by("code"))
    if not grids or Staff.objects.exists():
        _progress(stdout, "跳过人员数据：没有网格，或人员数据已存在。\n")
        return
    with transaction.atomic():
        served = _staff(rng, maker, grids, today, make_password(None))
        _progress(
            stdout,
            f"  已建立网格人员：{Staff.objects.count()} 人，任职记录 {Assignment.objects.count()} 条…\n",
        )
        rows = _residents(rng, maker, grids, residents)
        tagged = _tags(rng, rows, today)
        _progress(
            stdout,
            f"  已建立实有人口：{len(rows)} 人，{Household.objects.count()} 户，"
            f"重点人员标签 {len(tagged)} 个…\n",
        )
        rentals, shops, places = _places(rng, maker, grids)
        visits = _visits(rng, tagged, served, today, now)
    changed = services.assignments_sync(today)
    raised = _raised_cases(rng, tagged, now)
    _progress(
        stdout,
        f"  已生成走访记录 {visits + raised} 条（其中 {raised} 条上报了事件），出租房 {rentals} 处、"
        f"经营场所 {shops} 处、重点场所 {places} 处；权限调整 {changed} 项；用时 {time.monotonic() - started:.0f} 秒。\n",
    )


def reset() -> None:
    """Delete the people data (configuration stays), before the demo deletes grids, cases and users."""
    with transaction.atomic():
        Visit.objects.all().delete()
        ResidentTag.objects.all().delete()
        Resident.objects.all().delete()
        Household.objects.all().delete()
        RentalHouse.objects.all().delete()
        BusinessPremise.objects.all().delete()
        KeyPlace.objects.all().delete()
        Assignment.objects.all().delete()
        Staff.objects.all().delete()
