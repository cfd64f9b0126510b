"""People of the grids: staff and their assignments, residents and places, tags and weekly visits.

Every ID number and phone number is an ``EncryptedCharField`` with a sibling ``<field>_hash``
(keyed hash) for exact search; pages show them masked.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dualgrid.lib.crypto import EncryptedCharField
from dualgrid.places.models import Grid


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


# --- staff -------------------------------------------------------------------------------------------


class StaffRole(models.Model):
    """网格长, 专职网格员 … and the "N大员"; configurable. ``grants_access``: serving in this role gives
    the person's account the grid's cases (``User.grids``)."""

    code = models.SlugField("编码", max_length=32, unique=True)
    name = models.CharField("角色名称", max_length=32, unique=True)
    grants_access = models.BooleanField(
        "授予网格事件权限", default=False, help_text="任职期间，关联账号可查看和办理该网格的事件"
    )
    sort = models.PositiveSmallIntegerField("排序", default=100)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "网格人员角色"
        verbose_name_plural = "网格人员角色"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class PostName(models.Model):
    """统一岗位名称 (e.g. 江津's 23 unified post names); configurable."""

    name = models.CharField("岗位名称", max_length=64, unique=True)
    sort = models.PositiveSmallIntegerField("排序", default=100)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "统一岗位名称"
        verbose_name_plural = "统一岗位名称"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A person who serves grids; optionally linked to the account they log in with."""

    name = models.CharField("姓名", max_length=32)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True)
    phone = EncryptedCharField("手机号", blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number = EncryptedCharField("身份证号", blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "网格人员"
        verbose_name_plural = "网格人员"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="staff_unique_id_number"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One person serving one grid in one role from ``start_date`` until the day before ``end_date``.

    ``end_date`` is the first day the person no longer serves (离任日期), so a replacement on day D
    ends the old assignment on D and starts the new one on D without the two overlapping. Rows are
    never deleted: they are the grid's staff history.
    """

    staff = models.ForeignKey(
        Staff, verbose_name="人员", on_delete=models.PROTECT, related_name="assignments"
    )
    grid = models.ForeignKey(
        Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="staff_assignments"
    )
    role = models.ForeignKey(StaffRole, verbose_name="角色", on_delete=models.PROTECT, related_name="+")
    post_name = models.ForeignKey(
        PostName,
        verbose_name="统一岗位名称",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    start_date = models.DateField("任职日期")
    end_date = models.DateField("离任日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    end_reason = models.CharField("离任原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "任职记录"
        verbose_name_plural = "任职记录"
        ordering = ["grid", "-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="assignment_end_after_start",
            )
        ]
        indexes = [
            models.Index(fields=["grid", "end_date"], name="assignment_grid_end"),
            models.Index(fields=["staff", "grid", "role"], name="assignment_staff_grid_role"),
            models.Index(fields=["end_date"], name="assignment_end"),
            models.Index(fields=["start_date"], name="assignment_start"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.grid} · {self.role}"


# --- residents and places ----------------------------------------------------------------------------


class Household(models.Model):
    grid = models.ForeignKey(
        Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="household_set"
    )
    address = models.CharField("地址", max_length=200)
    house_number = models.CharField("门牌号", max_length=32, blank=True)
    head_name = models.CharField("户主姓名", max_length=32, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"
        ordering = ["grid", "address", "house_number", "id"]

    def __str__(self) -> str:
        return f"{self.address}{self.house_number}"


class Resident(models.Model):
    """实有人口."""

    household = models.ForeignKey(
        Household,
        verbose_name="所属户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="residents")
    name = models.CharField("姓名", max_length=32)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    id_number = EncryptedCharField("身份证号", blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedCharField("手机号", blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    ethnicity = models.CharField("民族", max_length=16, blank=True)
    address = models.CharField("现住址", max_length=200, blank=True)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "实有人口"
        verbose_name_plural = "实有人口"
        ordering = ["grid", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="resident_unique_id_number"
            )
        ]
        indexes = [models.Index(fields=["grid", "name"], name="resident_grid_name")]

    def __str__(self) -> str:
        return self.name


class RentalHouse(models.Model):
    """出租房."""

    grid = models.ForeignKey(
        Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="rental_houses"
    )
    address = models.CharField("地址", max_length=200)
    landlord_name = models.CharField("房东姓名", max_length=32)
    landlord_phone = EncryptedCharField("房东电话", blank=True)
    landlord_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    tenants = models.PositiveSmallIntegerField("租住人数", default=0)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "出租房"
        verbose_name_plural = "出租房"
        ordering = ["grid", "address", "id"]

    def __str__(self) -> str:
        return self.address


class BusinessCategory(models.TextChoices):
    CATERING = "catering", "餐饮"
    RETAIL = "retail", "零售"
    LODGING = "lodging", "住宿"
    ENTERTAINMENT = "entertainment", "娱乐"
    SERVICE = "service", "生活服务"
    PROCESSING = "processing", "生产加工"
    OTHER = "other", "其他"


class BusinessPremise(models.Model):
    """经营场所."""

    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="businesses")
    name = models.CharField("名称", max_length=100)
    address = models.CharField("地址", max_length=200)
    licence_no = models.CharField("统一社会信用代码/执照号", max_length=32, blank=True)
    category = models.CharField(
        "类别", max_length=16, choices=BusinessCategory.choices, default=BusinessCategory.OTHER
    )
    contact_name = models.CharField("联系人", max_length=32, blank=True)
    contact_phone = EncryptedCharField("联系电话", blank=True)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = "经营场所"
        verbose_name_plural = "经营场所"
        ordering = ["grid", "name", "id"]

    def __str__(self) -> str:
        return self.name


class KeyPlaceKind(models.TextChoices):
    SCHOOL = "school", "学校"
    HOSPITAL = "hospital", "医院诊所"
    ELDERLY = "elderly", "养老机构"
    MARKET = "market", "农贸市场"
    FUEL = "fuel", "加油站"
    WATER = "water", "水库塘堰"
    SCENIC = "scenic", "景区公园"
    OTHER = "other", "其他"


class KeyPlace(models.Model):
    """重点场所."""

    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="key_places")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=16, choices=KeyPlaceKind.choices, default=KeyPlaceKind.OTHER)
    address = models.CharField("地址", max_length=200)
    contact_name = models.CharField("联系人", max_length=32, blank=True)
    contact_phone = EncryptedCharField("联系电话", blank=True)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = "重点场所"
        verbose_name_plural = "重点场所"
        ordering = ["grid", "name", "id"]

    def __str__(self) -> str:
        return self.name


# --- tags --------------------------------------------------------------------------------------------


class TagGroup(models.TextChoices):
    CARE = "care", "关爱对象"
    SPECIAL = "special", "特殊人群"
    YOUTH = "youth", "重点青少年"


class Tag(models.Model):
    """A key population a resident belongs to, with its visit rule (seeded by migration 0002)."""

    group = models.CharField("分组", max_length=8, choices=TagGroup.choices)
    code = models.CharField("代码", max_length=8)
    name = models.CharField("名称", max_length=32)
    visit_every_days = models.PositiveSmallIntegerField(
        "走访周期（天）", default=0, help_text="7 = 每周（按自然周）；0 = 不要求定期走访"
    )
    sort = models.PositiveSmallIntegerField("排序", default=100)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "人员标签"
        verbose_name_plural = "人员标签"
        ordering = ["group", "sort", "code"]
        constraints = [models.UniqueConstraint(fields=["group", "code"], name="tag_group_code")]

    def __str__(self) -> str:
        return self.name


class Concern(models.TextChoices):
    """关注程度."""

    NORMAL = "normal", "一般"
    MEDIUM = "medium", "中等"
    SEVERE = "severe", "严重"


class ResidentTag(models.Model):
    """A resident in a key population from ``since`` until the day before ``ended_on``.

    ``ended_on`` is the first day the tag no longer applies (as ``Assignment.end_date``): an ended tag
    stays as history and no longer asks for visits. A resident holds a tag at most once at a time.
    """

    resident = models.ForeignKey(Resident, verbose_name="居民", on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(Tag, verbose_name="标签", on_delete=models.PROTECT, related_name="residents")
    level = models.CharField("关注程度", max_length=8, choices=Concern.choices, default=Concern.NORMAL)
    since = models.DateField("纳入日期")
    note = models.CharField("备注", max_length=200, blank=True)
    ended_on = models.DateField("结束日期", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "居民标签"
        verbose_name_plural = "居民标签"
        ordering = ["resident", "tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "tag"],
                condition=Q(ended_on__isnull=True),
                name="resident_tag_current_once",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("since")),
                name="resident_tag_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.tag}"


# --- visits ------------------------------------------------------------------------------------------


class VisitKind(models.TextChoices):
    HOME = "home", "入户"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"


def visit_photo_path(instance: Visit, filename: str) -> str:
    """An unguessable name as a second line of defence; the photo is only served by a scoped view."""
    suffix = Path(filename).suffix.lower()[:8] or ".jpg"
    return f"visits/{instance.visited_at:%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Visit(models.Model):
    """One visit to a resident or a household (a household visit counts for everyone in it)."""

    resident = models.ForeignKey(
        Resident,
        verbose_name="走访对象",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    household = models.ForeignKey(
        Household,
        verbose_name="走访户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="visits")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="走访人", on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField("走访时间")
    kind = models.CharField("走访方式", max_length=8, choices=VisitKind.choices, default=VisitKind.HOME)
    found = models.TextField("走访情况", max_length=2000)
    photo = models.ImageField("照片", upload_to=visit_photo_path, blank=True)
    raised_case = models.ForeignKey(
        "cases.Case",
        verbose_name="上报事件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(household__isnull=False), name="visit_has_subject"
            )
        ]
        indexes = [
            models.Index(fields=["grid", "visited_at"], name="visit_grid_time"),
            models.Index(fields=["resident", "visited_at"], name="visit_resident_time"),
            models.Index(fields=["household", "visited_at"], name="visit_household_time"),
            models.Index(fields=["visitor", "visited_at"], name="visit_visitor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.resident or self.household} {self.visited_at:%Y-%m-%d}"
