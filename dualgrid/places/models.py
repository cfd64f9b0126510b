"""Administrative units (市 → 区县 → 镇街 → 村/社区), grids and departments."""

from django.core.validators import RegexValidator
from django.db import models

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
    boundary = models.TextField("边界(WKT)", help_text="WGS84 经纬度多边形，WKT 格式")
    households = models.PositiveIntegerField("户数", default=0)
    population = models.PositiveIntegerField("人口", default=0)
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


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
