"""Administrative units (市 → 区县 → 镇街 → 村/社区), grids and micro-grids, grid duties, the online
grids (chat groups) and departments."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from dualgrid.lib.crypto import EncryptedCharField

code12 = RegexValidator(r"^\d{12}$", "区划代码应为12位数字")
grid_code = RegexValidator(r"^\d{15}(\d{2})?$", "网格编码应为15位（微网格17位）数字")


class UnitLevel(models.IntegerChoices):
    CITY = 1, "市"
    COUNTY = 2, "区县"
    TOWN = 3, "镇街"
    VILLAGE = 4, "村/社区"


class AdminUnit(models.Model):
    code = models.CharField("区划代码", max_length=12, unique=True, validators=[code12])
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    boundary = models.TextField("边界(WKT)", blank=True, help_text="WGS84 经纬度多边形，WKT 格式")

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class GridKind(models.TextChoices):
    URBAN = "urban", "城市社区网格"
    RURAL = "rural", "农村网格"
    EXCLUSIVE = "exclusive", "专属网格"


class GridTier(models.TextChoices):
    """The three tiers of 004, each with its own duty list. In the demo the village/community itself
    is the 总网格 level; a register may still list a 总网格 row of its own."""

    TOTAL = "total", "总网格"
    GENERAL = "general", "一般网格"
    MICRO = "micro", "微网格"


class Duty(models.Model):
    """An item of the 网格事项准入清单. A new duty counts (for grids and for assigning workers) only
    once an administrator has approved it."""

    code = models.CharField("编码", max_length=16, unique=True)
    name = models.CharField("职责事项", max_length=64, unique=True)
    description = models.TextField("说明", blank=True)
    standard = models.BooleanField("标准事项", default=False, help_text="准入清单的八项标准职责")
    approved = models.BooleanField("已批准", default=False)
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    active = models.BooleanField("启用", default=True)
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "网格职责事项"
        verbose_name_plural = "网格职责事项"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name if self.approved else f"{self.name}（待批准）"


class TierDuty(models.Model):
    """The default duty list of a tier; a grid without duties of its own uses its tier's list."""

    tier = models.CharField("网格层级", max_length=16, choices=GridTier.choices)
    duty = models.ForeignKey(Duty, verbose_name="职责事项", on_delete=models.CASCADE, related_name="tiers")

    class Meta:
        verbose_name = "层级默认职责"
        verbose_name_plural = "层级默认职责"
        ordering = ["tier", "duty__sort", "duty__code"]
        constraints = [models.UniqueConstraint(fields=["tier", "duty"], name="places_tierduty_unique")]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}：{self.duty.name}"


class Grid(models.Model):
    code = models.CharField("网格编码", max_length=17, unique=True, validators=[grid_code])
    name = models.CharField("网格名称", max_length=64)
    village = models.ForeignKey(
        AdminUnit, verbose_name="所属村/社区", on_delete=models.PROTECT, related_name="grids"
    )
    # Denormalised ancestors so scope filters on cases stay single-column index lookups.
    town = models.ForeignKey(AdminUnit, verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey(AdminUnit, verbose_name="所属区县", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("网格类型", max_length=16, choices=GridKind.choices, default=GridKind.URBAN)
    tier = models.CharField(
        "网格层级", max_length=16, choices=GridTier.choices, default=GridTier.GENERAL, db_index=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级网格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="微网格所属的网格；微网格编码 = 上级网格编码 + 2位序号",
    )
    duties = models.ManyToManyField(
        Duty,
        verbose_name="职责清单",
        blank=True,
        related_name="grids",
        help_text="留空则使用所属层级的默认职责",
    )
    boundary = models.TextField("边界(WKT)", help_text="WGS84 经纬度多边形，WKT 格式")
    households = models.PositiveIntegerField("户数", default=0)
    population = models.PositiveIntegerField("人口", default=0)
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(tier="micro") | Q(parent__isnull=False), name="places_grid_micro_has_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Platform(models.TextChoices):
    WECHAT = "wechat", "微信"
    WECOM = "wecom", "企业微信"
    QQ = "qq", "QQ"


class ChatGroup(models.Model):
    """An online grid (云网格): a real-name chat group of a grid's residents. A group without a grid
    is a finding of the coverage check (一格一群)."""

    grid = models.ForeignKey(
        Grid,
        verbose_name="所属网格",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_groups",
    )
    platform = models.CharField("平台", max_length=16, choices=Platform.choices, default=Platform.WECHAT)
    name = models.CharField("群名称", max_length=128)
    external_id = models.CharField("群号/群ID", max_length=64)
    member_count = models.PositiveIntegerField("群成员数", default=0)
    owner_name = models.CharField("群主", max_length=32, blank=True)
    owner_phone = EncryptedCharField("群主手机号", blank=True)
    owner_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "网格群（云网格）"
        verbose_name_plural = "网格群（云网格）"
        ordering = ["grid__code", "platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="places_chatgroup_platform_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_platform_display()}）"


class Department(models.Model):
    code = models.CharField("部门编码", max_length=32, unique=True)
    name = models.CharField("部门名称", max_length=64)
    unit = models.ForeignKey(
        AdminUnit, verbose_name="所属层级", on_delete=models.PROTECT, related_name="departments"
    )
    phone = models.CharField("值班电话", max_length=32, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["unit__code", "code"]

    def __str__(self) -> str:
        return self.name
