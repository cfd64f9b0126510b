"""Daily aggregates of the case timeline, kept up to date by the worker (``rollup.py``).

One row holds one day's counters of one slice: a place (the whole platform, a county, a town, a
village or a grid — the case's own place, denormalised on the case) crossed with one breakdown (the
total, one channel, one top-level category or one leaf category). The cockpit reads only these rows,
never the case table, for its period figures: a county's year is 365 ``total`` rows.
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


class DailyFigure(models.Model):
    day = models.DateField("日期（北京时间）")
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    # AdminUnit id for counties/towns/villages, Grid id for grids, 0 for the whole platform or for a
    # case without that place (0 rather than NULL, so the unique key also holds for those rows).
    unit_id = models.PositiveBigIntegerField("单位/网格")
    dim = models.CharField("维度", max_length=8, choices=Dim.choices)
    # Channel code or category id as text; "" for the total, "0" for a case without a category.
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
        verbose_name = "每日统计"
        verbose_name_plural = "每日统计"
        constraints = [
            # Also the index every cockpit read uses: (level, unit, dim) equal, then a day range.
            models.UniqueConstraint(
                fields=["level", "unit_id", "dim", "day", "key"], name="dailyfigure_slice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_level_display()}#{self.unit_id} {self.dim}={self.key}"


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
