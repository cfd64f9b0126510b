"""Daily aggregates of the case timeline, kept up to date by the worker (``rollup.py``).

One row holds one day's counters of one slice: a place (the whole platform, a county, a town, a
village or a grid — the case's own place, denormalised on the case) crossed with one breakdown (the
total, one channel, one top-level category, one leaf category, one handling department or one
person who reported, signed or resolved). The cockpit reads only these rows,
never the case table, for its period figures. The same counters are kept per calendar month and
year too (``MonthlyFigure``, ``YearlyFigure``): a county's year is one ``total`` row, not 365.
"""

from django.db import models


class Level(models.IntegerChoices):
    ALL = 0, "全部"
    COUNTY = 1, "区县"
    TOWN = 2, "镇街"
    VILLAGE = 3, "村/社区"
    GRID = 4, "网格"


class Dim(models.TextChoices):
    TOTAL = "total", "合计"
    CHANNEL = "channel", "来源渠道"
    TOP_CATEGORY = "top", "事件大类"
    CATEGORY = "leaf", "事件小类"
    # Who handled the case (see rollup.DEPARTMENT_KEY / WORKER_KEY): the key is a Department id or
    # a User id; events before a case reaches a department or a person carry no such row.
    DEPARTMENT = "dept", "承办部门"
    WORKER = "worker", "承办人（网格员）"


# The counters, in the order the rollup writes them. Their definitions are in rollup.COUNTERS.
COUNTER_FIELDS = (
    "received",
    "rejected",
    "dispatched",
    "signed",
    "resolved",
    "closed",
    "closed_on_time",
    "auto_closed",
    "deferred",
    "deferred_closed",
    "reworked",
    "rated",
    "satisfied",
    "basic_satisfied",
    "unsatisfied",
    "sign_seconds_sum",
    "resolve_seconds_sum",
)


class Figures(models.Model):
    """The counters of one slice over one bucket of days: a day, a calendar month or a calendar year
    (``grains.py``). The three tables hold the same slices; ``day`` is the bucket's first day."""

    day = models.DateField("日期（北京时间）")
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    # AdminUnit id for counties/towns/villages, Grid id for grids, 0 for the whole platform or for a
    # case without that place (0 rather than NULL, so the unique key also holds for those rows).
    unit_id = models.PositiveBigIntegerField("单位/网格")
    dim = models.CharField("维度", max_length=8, choices=Dim.choices)
    # Channel code, category id, department id or user id as text; "" for the total, "0" for a case
    # without a category.
    key = models.CharField("维度值", max_length=24, blank=True)

    received = models.PositiveIntegerField("受理登记", default=0)
    rejected = models.PositiveIntegerField("不予受理", default=0)
    dispatched = models.PositiveIntegerField("派遣", default=0)
    signed = models.PositiveIntegerField("签收", default=0)
    resolved = models.PositiveIntegerField("办结反馈", default=0)
    closed = models.PositiveIntegerField("结案", default=0)
    closed_on_time = models.PositiveIntegerField("按期结案", default=0)
    auto_closed = models.PositiveIntegerField("未评价自动结案", default=0)
    deferred = models.PositiveIntegerField("延期（缓办）获批", default=0)
    deferred_closed = models.PositiveIntegerField("获批延期后结案", default=0)
    reworked = models.PositiveIntegerField("返工", default=0)
    rated = models.PositiveIntegerField("已评价", default=0)
    satisfied = models.PositiveIntegerField("满意", default=0)
    basic_satisfied = models.PositiveIntegerField("基本满意", default=0)
    unsatisfied = models.PositiveIntegerField("不满意", default=0)
    sign_seconds_sum = models.BigIntegerField("签收用时合计（秒）", default=0)
    resolve_seconds_sum = models.BigIntegerField("处置用时合计（秒）", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.get_level_display()}#{self.unit_id} {self.dim}={self.key}"


def _slice_key(table: str) -> list[models.BaseConstraint]:
    """The unique slice key of a figures table — also the index every cockpit read uses: (level, unit,
    dim) equal, then a day range."""
    return [models.UniqueConstraint(fields=["level", "unit_id", "dim", "day", "key"], name=f"{table}_slice")]


def _day_index(table: str) -> list[models.Index]:
    """The rebuild deletes days and sums a month's (or year's) rows by date alone (no place): without
    this index each is a scan of the whole table."""
    return [models.Index(fields=["day"], name=f"{table}_day")]


class DailyFigure(Figures):
    class Meta:
        verbose_name = "每日统计"
        verbose_name_plural = "每日统计"
        constraints = _slice_key("dailyfigure")
        indexes = _day_index("dailyfigure")


class MonthlyFigure(Figures):
    """The daily rows of one calendar month summed (``day`` = the 1st), kept by the same rollup."""

    class Meta:
        verbose_name = "每月统计"
        verbose_name_plural = "每月统计"
        constraints = _slice_key("monthlyfigure")
        indexes = _day_index("monthlyfigure")


class YearlyFigure(Figures):
    """The monthly rows of one calendar year summed (``day`` = 1 January), kept by the same rollup."""

    class Meta:
        verbose_name = "每年统计"
        verbose_name_plural = "每年统计"
        constraints = _slice_key("yearlyfigure")
        indexes = _day_index("yearlyfigure")


class RollupMark(models.Model):
    """How far the rollup has read the event table. One row per stream; locked while it is moved."""

    name = models.CharField(max_length=32, unique=True)
    # Every event with id <= last_id is counted in DailyFigure, and none above it.
    last_id = models.BigIntegerField(default=0)
    # The highest event id seen at horizon_at. Ids are handed out before their transaction commits,
    # so a lower id may still appear after a higher one; the rollup reads past an id only once the
    # horizon that covers it is older than the settle time, when every such transaction has ended.
    horizon_id = models.BigIntegerField(default=0)
    horizon_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "统计进度"
        verbose_name_plural = "统计进度"

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class GridLoad(models.Model):
    """Cases located in a grid and not yet closed or voided, kept by the rollup in the same transaction
    as the daily figures (+1 per registration, −1 per 不予受理 or 结案), so the map never counts the
    case table. ``rebuild`` recounts it from the grids' daily rows."""

    grid_id = models.PositiveBigIntegerField("网格", primary_key=True)
    open = models.IntegerField("在办事件数", default=0)

    class Meta:
        verbose_name = "网格在办事件数"
        verbose_name_plural = "网格在办事件数"

    def __str__(self) -> str:
        return f"grid {self.grid_id}: {self.open}"


class GridVisitLoad(models.Model):
    """Key-population residents of a grid overdue for a visit, as the worker last computed them
    (``visitload.refresh``): the map reads this row instead of applying every resident's visit rule
    on each request (0.8 s for a county of 21,600 tagged residents, 6 s for a city). Logging a visit
    or changing a tag recomputes its grid at once; the worker recomputes every grid every
    ``COCKPIT_VISIT_REFRESH_MINUTES`` and at the start of a local day (weeks roll over)."""

    grid_id = models.PositiveBigIntegerField("网格", primary_key=True)
    overdue = models.IntegerField("走访超期人数", default=0)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "网格走访超期人数"
        verbose_name_plural = "网格走访超期人数"

    def __str__(self) -> str:
        return f"grid {self.grid_id}: {self.overdue}"


# --- warnings (分级预警) ---------------------------------------------------------------------------


class WarningLevel(models.TextChoices):
    YELLOW = "yellow", "黄色预警"
    ORANGE = "orange", "橙色预警"
    RED = "red", "红色预警"


class WarningRule(models.TextChoices):
    DISPUTES = "disputes", "同一网格矛盾纠纷多发"
    SURGE = "surge", "同类事件激增"
    ADDRESS = "address", "同一地址集中反映"


class WarningStatus(models.TextChoices):
    OPEN = "open", "待确认"
    ACKNOWLEDGED = "acknowledged", "已确认"
    CLOSED = "closed", "已关闭"


ACTIVE_WARNING_STATUSES = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)


class Warning(models.Model):
    """A graded warning raised by a rule (``warnings.py``) about one place, with the cases behind it.

    At most one warning per rule and place is active at a time (the partial unique constraint); a
    rule's later cases join it instead of raising a second one."""

    rule = models.CharField("规则", max_length=16, choices=WarningRule.choices)
    # The place the rule grouped by: "grid:<id>", "grid:<id>:cat:<id>" or "addr:<county>:<address>".
    key = models.CharField("预警对象", max_length=255)
    level = models.CharField("级别", max_length=8, choices=WarningLevel.choices)
    reason = models.CharField("预警原因", max_length=500)
    address = models.CharField("地址", max_length=200, blank=True)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name="事件分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grid = models.ForeignKey(
        "places.Grid", verbose_name="网格", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        "places.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    town = models.ForeignKey(
        "places.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        "places.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cases = models.ManyToManyField("cases.Case", verbose_name="相关事件", related_name="+")
    owner_unit = models.ForeignKey(
        "places.AdminUnit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        "accounts.User",
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN
    )
    raised_at = models.DateTimeField("预警时间", db_index=True)
    updated_at = models.DateTimeField("最近更新")
    acknowledged_by = models.ForeignKey(
        "accounts.User",
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User",
        verbose_name="关闭人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    close_note = models.TextField("处置说明", blank=True)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=models.Q(status__in=["open", "acknowledged"]),
                name="warning_one_active_per_place",
            )
        ]
        indexes = [models.Index(fields=["rule", "key", "-raised_at"], name="warning_rule_key")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.reason}"


# --- the daily report (每日一报告) ------------------------------------------------------------------


class ReportSubscription(models.Model):
    """A unit whose daily report the worker generates each morning (none at all: every county)."""

    unit = models.OneToOneField(
        "places.AdminUnit", verbose_name="单位", on_delete=models.CASCADE, related_name="+"
    )
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "每日报告订阅"
        verbose_name_plural = "每日报告订阅"

    def __str__(self) -> str:
        return str(self.unit)


class DailyReport(models.Model):
    """One scope's report for one local day: the data as built then, and its PDF and Excel."""

    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    unit_id = models.PositiveBigIntegerField("单位/网格")
    name = models.CharField("范围", max_length=64)
    day = models.DateField("报告日期（北京时间）")
    generated_at = models.DateTimeField("生成时间")
    data = models.JSONField("内容")
    pdf = models.BinaryField("PDF")
    xlsx = models.BinaryField("Excel")

    class Meta:
        verbose_name = "每日报告"
        verbose_name_plural = "每日报告"
        ordering = ["-day", "level", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["level", "unit_id", "day"], name="dailyreport_scope_day"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"

    @property
    def token(self) -> str:
        return f"{self.level}-{self.unit_id}"
