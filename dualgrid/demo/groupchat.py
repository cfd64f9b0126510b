"""The demo district's chat groups talking (巡群): a webhook connector "demo" and ~300 group messages of
the last three days, stored through the real ``ingest()`` (so the live triage flags them), a season's
week of patrol logs, and the older flagged messages handled the way grid workers would.

Most of it is chatter (早上好, 通知收到, 谁家的快递); a few messages need someone: a fight over a pond, a
lost elder, a blocked drain, a salesman cheating old people. The printed ``gridworker`` login's grid
gets half of the messages, and its newest flagged ones are left waiting, so /watch/ opens on work (and
an urgent one past the alert time shows the red count). Every text here is written for the demo.

``load(rng, stdout)`` runs after the district, its accounts, chat groups and staff exist; ``reset()``
removes the watch's rows before the district is deleted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.demo import texts
from dualgrid.lib.errors import DomainError
from dualgrid.places.models import ChatGroup, Grid, Platform
from dualgrid.places.services import chat_group_upsert
from dualgrid.watch import feed
from dualgrid.watch.inbound import Inbound, ingest
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    GroupMessage,
    MessageState,
    Notice,
    Outbox,
    PatrolLog,
    QuarantinedGroup,
)

CONNECTOR_SLUG = "demo"
DEMO_WORKER = "gridworker"
MESSAGES = 300
DAYS = 3
PATROL_DAYS = 7
OTHER_GROUPS = 24

# (text, needs someone) — {v} the village, {n} a 社 (村民小组) number, {s} a surname.
CHATTER: tuple[str, ...] = (
    "早上好",
    "大家早上好！",
    "早",
    "早安，今天出太阳了",
    "收到",
    "通知收到",
    "收到，谢谢网格员",
    "好的",
    "好的，明白了",
    "👍👍",
    "谢谢",
    "辛苦了",
    "网格员辛苦了🌹",
    "谁家的快递放在{n}社路口了，顺丰的，快来拿",
    "有没有人捡到一把电动车钥匙，蓝色钥匙扣",
    "请问明天镇上逢场不？",
    "今天菜市场的柠檬好便宜，两块钱一斤",
    "晚上广场舞八点开始哈",
    "哪个晓得社保卡在哪里补办？",
    "下午要下雨，晒了被子的快收",
    "明天停水不？去年这个时候停过",
    "哈哈哈哈",
    "[强]",
    "转发一下，大家注意查收",
    "好久没在群里说话了，大家好",
    "今天是{s}大爷八十大寿，祝生日快乐！",
    "恭喜恭喜🎉",
    "娃儿的疫苗本在哪里补哦",
    "有没有人要柚子，自家树上结的，免费来摘",
    "请问村委会今天有人上班没？",
    "晚上好",
    "晚安",
    "大家晚安，早点休息",
    "明天早上去赶场的可以搭我的车，还有两个位置",
    "知道了",
    "已转发",
    "好的好的",
    "@网格员 医保缴费截止到好久？",
    "{s}嬢嬢家的狗又跑出来了，哪个看到喊她一声",
    "今天太阳好大，老年人注意防暑",
    "群里发的通知大家看一下",
    "我家那边已经通知到了",
    "明天体检几点开始？要空腹不",
    "谢谢网格员帮忙，问题解决了",
    "哪里可以修电瓶车？",
    "{v}小学放学时间改了吗",
    "这个天气适合晒腊肉",
    "中午吃啥子",
    "在不在",
    "收到收到",
)
ADS: tuple[str, ...] = (
    "自家散养土鸡蛋，一块五一个，需要的私聊",
    "专业疏通下水道、安装水电，电话见头像",
    "本店新到一批化肥，价格优惠，欢迎选购",
    "转发此消息到三个群，领取免费鸡蛋十个",
    "招工：柠檬厂采摘工，日结150，包午饭",
    "手机贷款，秒到账，无需抵押，有意者加微信",
)
NOTICES: tuple[str, ...] = (
    "【通知】明天上午9点在村委会开展免费体检，65岁以上老人请带身份证",
    "【防溺水提示】暑期将至，请家长看好孩子，不要到堰塘、河边玩水",
    "【防诈骗提醒】凡是让你转账到“安全账户”的都是诈骗，请大家提高警惕",
    "【停电通知】因线路检修，本周四8:00-17:00{n}社一带停电，请提前做好准备",
    "【医保缴费】城乡居民医保缴费已开始，可在微信“重庆医保”小程序缴纳",
    "【护林防火】进山入林严禁携带火种，严禁野外用火",
)
ACTIONABLE: tuple[str, ...] = (
    "{n}社{s}氏兄弟因堰塘使用又打起来了，网格员快来看看！",
    "{n}社{s}家两兄弟在堰塘边吵起来了，拿起锄头了，快来人",
    "我妈早上出门就没回来，七十多岁，有点糊涂，穿蓝色外套，大家帮忙留意一下😭",
    "{n}社有个老人走失了，一下午没找到，哪个看到了请在群里说一声",
    "{n}社路口的下水道堵了，污水漫到路上，臭得很，麻烦处理一下",
    "{v}老街下水道又堵了，一下雨就淹，好几天了没人管",
    "有人上门推销保健品，说包治百病，骗老人钱，{n}社好几个老人都买了几千块",
    "今天有两个人挨家挨户说免费领鸡蛋，要老人交钱买保健品，大家注意，已经有人被骗了",
    "{n}社那根电线杆歪了，电线吊得很低，娃儿放学要从那里过，太危险了",
    "{n}社后山有块石头松了，昨晚下雨滚下来一些泥巴，怕要垮",
    "{s}家隔壁在烧秸秆，烟子好大，还离柴房很近",
    "村道上那个大坑好久了，昨晚又有人骑车摔了",
    "{n}社自来水停了两天了，也没通知，老人没水喝",
    "晚上楼下烧烤店吵到凌晨两点，睡不着，说了好几次都不听",
    "{s}家和邻居为宅基地界线吵了一上午，都要打起来了",
    "路灯坏了一个多月了，晚上黑漆漆的，老年人出门不安全",
    "河边护栏断了一截，好多娃儿在那边耍，危险",
    "{n}社有个独居老人好几天没看到出门了，敲门也没人应，有点担心",
    "工地晚上还在施工，噪音太大了",
    "垃圾桶好几天没人收了，都满出来了，苍蝇好多",
    "有人在河里电鱼，还在继续",
    "{v}那边有辆车停在消防通道上两天了，堵起的",
    "刚才看到有人落水了！在{n}社堰塘，快来人！",
    "{n}社有户人家冒黑烟，好像着火了！",
)


@dataclass
class Planned:
    group: ChatGroup
    text: str
    sent_at: datetime
    sender: str
    phone: str
    needs_someone: bool
    reason: tuple[str, str]  # the worker's 忽略 reason and note, should triage flag it anyway


def _worker_groups(rng: random.Random) -> list[ChatGroup]:
    """The demo worker's WeChat groups; a grid with none gets one (the connector speaks WeChat)."""
    grid = Grid.objects.filter(workers__username=DEMO_WORKER).first()
    if grid is None:
        return []
    groups = list(ChatGroup.objects.filter(grid=grid, platform=Platform.WECHAT))
    if not groups:
        group, _ = chat_group_upsert(
            actor=None,
            platform=Platform.WECHAT,
            external_id=f"{rng.randrange(10**10, 10**11)}@chatroom",
            name=f"{grid.name}居民群",
            grid=grid,
            member_count=max(grid.population // 2, 60),
            owner_name=texts.random_name(rng),
            owner_phone=texts.random_phone(rng),
        )
        groups = [group]
    return groups


def _other_groups(rng: random.Random, mine: list[ChatGroup]) -> list[ChatGroup]:
    """Some other WeChat groups, nearer ones first: the worker's town, then the rest of the district."""
    town_id = mine[0].grid.town_id if mine and mine[0].grid is not None else None
    pool = list(
        ChatGroup.objects.filter(platform=Platform.WECHAT, grid__isnull=False)
        .exclude(pk__in=[g.pk for g in mine])
        .select_related("grid")
        .order_by("grid__code", "pk")
    )
    near = [g for g in pool if g.grid is not None and g.grid.town_id == town_id]
    far = [g for g in pool if g not in near]
    picked = rng.sample(near, min(len(near), OTHER_GROUPS // 2))
    picked += rng.sample(far, min(len(far), OTHER_GROUPS - len(picked)))
    return picked


def _when(rng: random.Random, now: datetime, days: int) -> datetime:
    """A moment of the last ``days`` days, in waking hours (06:30–22:30 local)."""
    local_now = timezone.localtime(now)
    for _ in range(20):
        day = local_now.date() - timedelta(days=rng.randrange(days))
        minute = rng.randint(6 * 60 + 30, 22 * 60 + 30)
        moment = timezone.make_aware(datetime.combine(day, time(minute // 60, minute % 60)))
        if moment < now - timedelta(minutes=5):
            return moment
    return now - timedelta(hours=rng.uniform(1, 20))


def _fill(text: str, rng: random.Random, group: ChatGroup) -> str:
    village = group.grid.village.name if group.grid is not None else "村"
    surname = texts.random_name(rng)[0]
    return text.format(v=village, n=rng.randint(1, 12), s=surname)


def _plan(rng: random.Random, mine: list[ChatGroup], others: list[ChatGroup], now: datetime) -> list[Planned]:
    plans: list[Planned] = []

    def add(
        group: ChatGroup, text: str, at: datetime, needs: bool, reason: tuple[str, str] = ("闲聊", "")
    ) -> None:
        phone = texts.random_phone(rng) if needs and rng.random() < 0.3 else ""
        plans.append(
            Planned(group, _fill(text, rng, group), at, texts.random_name(rng), phone, needs, reason)
        )

    for n in range(MESSAGES - 8):
        group = rng.choice(mine) if (n % 2 == 0 or not others) else rng.choice(others)
        roll = rng.random()
        at = _when(rng, now, DAYS)
        if roll < 0.80:
            add(group, rng.choice(CHATTER), at, False)
        elif roll < 0.85:
            add(group, rng.choice(ADS), at, False, ("广告", ""))
        elif roll < 0.89:
            add(group, rng.choice(NOTICES), at, False, ("其他", "群内通知，无需处置"))
        else:
            add(group, rng.choice(ACTIONABLE[:-2]), at, True)
    # The worker's feed opens on fresh work: a pond fight, a lost elder, a drain, a fraud on elders.
    fresh = [
        (ACTIONABLE[0], 95),
        (ACTIONABLE[3], 40),
        (ACTIONABLE[4], 180),
        (ACTIONABLE[7], 25),
        (ACTIONABLE[8], 300),
        (CHATTER[13], 60),
        (CHATTER[5], 200),
    ]
    for text, minutes in fresh:
        add(mine[0], text, now - timedelta(minutes=minutes), text in ACTIONABLE)
    # One emergency elsewhere in the district, long handled.
    if others:
        add(others[0], ACTIONABLE[-1], now - timedelta(hours=30), True)
    plans.sort(key=lambda p: p.sent_at)
    return plans


def _store(connector: Connector, plans: list[Planned], rng: random.Random) -> dict[str, Planned]:
    """Each message arrives a few seconds after it was sent, through the same ``ingest`` as the hooks."""
    by_id: dict[str, Planned] = {}
    for n, plan in enumerate(plans):
        external_id = f"demo-{n:05d}"
        by_id[external_id] = plan
        ingest(
            connector,
            [
                Inbound(
                    external_id=external_id,
                    group_id=plan.group.external_id,
                    text=plan.text,
                    sender_id=f"wxid_{rng.randrange(10**9):09d}",
                    sender_name=plan.sender,
                    sender_phone=plan.phone,
                    group_name=plan.group.name,
                    sent_at=plan.sent_at,
                )
            ],
            now=plan.sent_at + timedelta(seconds=rng.randint(1, 20)),
        )
    return by_id


def _handle(by_id: dict[str, Planned], rng: random.Random, now: datetime) -> tuple[int, int]:
    """Flagged messages older than the last few hours were handled by their grid's worker, 5–90 minutes
    after they arrived: made into a case when they needed someone, else dismissed with a reason."""
    workers: dict[int, User] = {}
    for user in User.objects.filter(role=Role.GRIDWORKER, is_active=True).prefetch_related("grids"):
        for grid in user.grids.all():
            if user.username == DEMO_WORKER or grid.pk not in workers:
                workers[grid.pk] = user
    made = dismissed = 0
    cutoff = now - timedelta(hours=6)
    flagged = GroupMessage.objects.filter(
        connector__slug=CONNECTOR_SLUG, state=MessageState.FLAGGED, received_at__lt=cutoff
    ).order_by("received_at")
    for message in flagged:
        worker = workers.get(message.grid_id or 0)
        plan = by_id.get(message.external_id)
        if worker is None or plan is None or rng.random() < 0.1:
            continue
        at = message.received_at + timedelta(minutes=rng.expovariate(1 / 25) + 3)
        if at >= now:
            continue
        try:
            if plan.needs_someone:
                feed.message_make_case(
                    actor=worker, message_id=message.pk, draft=feed.case_draft(message), now=at
                )
                made += 1
            else:
                reason, note = plan.reason
                feed.message_dismiss(actor=worker, message_id=message.pk, reason=reason, note=note, now=at)
                dismissed += 1
        except DomainError:
            continue
    return made, dismissed


def _patrols(rng: random.Random, now: datetime) -> int:
    """A week of looks at the feed: most workers patrol both key windows most days, a few often miss."""
    zone = feed.local_zone()
    today = timezone.localtime(now, zone).date()
    workers = list(User.objects.filter(role=Role.GRIDWORKER, is_active=True, grids__isnull=False).distinct())
    rows: list[PatrolLog] = []
    for worker in workers:
        diligence = 0.97 if worker.username == DEMO_WORKER else rng.choice((0.95, 0.9, 0.85, 0.75, 0.5))
        for back in range(PATROL_DAYS):
            day = today - timedelta(days=back)
            moments = []
            if rng.random() < diligence:
                moments.append(datetime.combine(day, time(7, rng.randint(0, 59)), tzinfo=zone))
            if rng.random() < diligence - 0.05:
                moments.append(
                    datetime.combine(day, time(rng.randint(20, 21), rng.randint(0, 59)), tzinfo=zone)
                )
            for _ in range(rng.randint(0, 3)):
                moments.append(
                    datetime.combine(day, time(rng.randint(9, 18), rng.randint(0, 59)), tzinfo=zone)
                )
            rows.extend(PatrolLog(user=worker, at=at, action="view") for at in moments if at < now)
    PatrolLog.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def load(rng: random.Random, stdout: Any, *, now: datetime | None = None) -> None:
    if Connector.objects.filter(slug=CONNECTOR_SLUG).exists():
        stdout.write("演示网格群消息已存在，跳过。\n")
        return
    now = now or timezone.now()
    with transaction.atomic():
        mine = _worker_groups(rng)
        if not mine:
            stdout.write("跳过网格群消息：没有演示网格员账号。\n")
            return
        connector = Connector.objects.create(
            slug=CONNECTOR_SLUG,
            name="演示接入（通用Webhook）",
            kind=ConnectorKind.WEBHOOK,
            platform=Platform.WECHAT,
        )
        plans = _plan(rng, mine, _other_groups(rng, mine), now)
        by_id = _store(connector, plans, rng)
        made, dismissed = _handle(by_id, rng, now)
        patrols = _patrols(rng, now)
        alerted = feed.alert_sweep(now)
        notices = _notices(now)
    waiting = GroupMessage.objects.filter(connector=connector, state=MessageState.FLAGGED).count()
    stdout.write(
        f"  已接收网格群消息 {len(plans)} 条：转为事件 {made} 条、忽略 {dismissed} 条、待处置 {waiting} 条"
        f"（超时提醒 {alerted} 条），巡群记录 {patrols} 条；已排期宣传推送 {notices} 条。\n"
    )


PUBLICITY = [
    (
        "防范电信诈骗",
        "【防诈骗提醒】警惕“免费领鸡蛋”",
        "近期有人以免费领鸡蛋、赠送保健品为名，诱导老年人交钱购买高价产品。请子女多提醒家中老人："
        "不听、不信、不转账，遇到可疑情况请拨打110或联系本网格网格员。",
        "区公安分局",
        0,
    ),
    (
        "防范电信诈骗",
        "【防诈骗提醒】陌生来电要求转账，一律是诈骗",
        "凡是自称公检法要求转账到“安全账户”的，都是诈骗。请不要透露银行卡号、验证码。",
        "区公安分局",
        2,
    ),
    (
        "防溺水",
        "【防溺水】远离堰塘河沟，看管好孩子",
        "天气转暖，请家长看管好孩子，不到堰塘、河沟、水库边玩耍，不私自下水游泳。",
        "区教委",
        4,
    ),
]


def _notices(now: datetime) -> int:
    """A few publicity notices, scheduled in the coming days (the demo has no bot to send them)."""
    from dualgrid.places.models import AdminUnit, UnitLevel
    from dualgrid.watch.publicity import NoticeInput, notice_create

    author = User.objects.filter(username="dispatcher").first()
    county = AdminUnit.objects.filter(level=UnitLevel.COUNTY).first()
    if author is None or county is None:
        return 0
    start = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    for theme, title, body, department, days in PUBLICITY:
        notice_create(
            actor=author,
            data=NoticeInput(
                title=title,
                body=body,
                theme=theme,
                department=department,
                units=[county],
                scheduled_at=start + timedelta(days=days),
            ),
            now=now,
        )
    return len(PUBLICITY)


def reset() -> None:
    """Delete the watch's rows (messages, logs, outbox, notices, connectors) before the district goes."""
    with transaction.atomic():
        Outbox.objects.all().delete()
        Notice.objects.all().delete()
        GroupMessage.objects.all().delete()
        QuarantinedGroup.objects.all().delete()
        PatrolLog.objects.all().delete()
        Connector.objects.all().delete()
