"""Cases (事件/诉求/工单), their categories, routing rules, time limits and timeline."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse

from dualgrid.lib.crypto import EncryptedCharField
from dualgrid.places.models import AdminUnit, Department, Grid


class RequestKind(models.TextChoices):
    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"


class Category(models.Model):
    code = models.CharField("分类编码", max_length=16, unique=True)
    name = models.CharField("分类名称", max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField("诉求类型", max_length=16, choices=RequestKind.choices, default=RequestKind.HELP)
    active = models.BooleanField("启用", default=True)
    sort = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "事件分类"
        verbose_name_plural = "事件分类"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name


class Urgency(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"


class LimitUnit(models.TextChoices):
    HOUR = "hour", "自然小时"
    WORKDAY = "workday", "工作日"


class TimeLimit(models.Model):
    """签收 and 办结 limits; the most specific row wins (category, its parents, request kind, default)."""

    category = models.ForeignKey(
        Category,
        verbose_name="分类",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_limits",
    )
    kind = models.CharField("诉求类型", max_length=16, choices=RequestKind.choices, blank=True)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    unit = models.CharField("计时单位", max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKDAY)
    sign_limit = models.PositiveIntegerField("签收时限")
    resolve_limit = models.PositiveIntegerField("办结时限")

    class Meta:
        verbose_name = "办理时限"
        verbose_name_plural = "办理时限"
        constraints = [
            models.UniqueConstraint(fields=["category", "kind", "urgency"], name="uniq_time_limit"),
        ]

    def __str__(self) -> str:
        target = self.category or self.get_kind_display() or "默认"
        return f"{target}·{self.get_urgency_display()}：签收{self.sign_limit} 办结{self.resolve_limit}{self.get_unit_display()}"


class Holiday(models.Model):
    """Public holidays and their swapped working days (调休) for working-day limits."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("调休上班", default=False)
    name = models.CharField("名称", max_length=32, blank=True)

    class Meta:
        verbose_name = "节假日"
        verbose_name_plural = "节假日"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class HandlerKind(models.TextChoices):
    GRID = "grid", "所在网格"
    DEPARTMENT = "department", "指定部门"


class RoutingRule(models.Model):
    """category × place → handling unit. The most specific category, then unit, then priority wins."""

    category = models.ForeignKey(
        Category, verbose_name="分类（含下级）", on_delete=models.CASCADE, related_name="rules"
    )
    unit = models.ForeignKey(
        AdminUnit,
        verbose_name="适用区划（空为全部）",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    handler = models.CharField("承办方", max_length=16, choices=HandlerKind.choices)
    department = models.ForeignKey(
        Department, verbose_name="承办部门", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    priority = models.IntegerField("优先级", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "分拨规则"
        verbose_name_plural = "分拨规则"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handler="grid", department__isnull=True)
                | models.Q(handler="department", department__isnull=False),
                name="rule_handler_department",
            )
        ]

    def __str__(self) -> str:
        target = self.department if self.handler == HandlerKind.DEPARTMENT else "所在网格"
        return f"{self.category} → {target}"


class Channel(models.TextChoices):
    WEB = "web", "网页/扫码"
    HOTLINE = "hotline", "热线电话"
    PATROL = "patrol", "网格员巡查"
    GROUP = "group", "网格群"
    HOTLINE_12345 = "12345", "12345转办"
    BOARD = "board", "领导留言板"
    OTHER = "other", "其他"


class Status(models.TextChoices):
    NEW = "new", "待受理"
    PENDING_DISPATCH = "pending_dispatch", "待派单"
    PENDING_SIGN = "pending_sign", "待签收"
    IN_PROGRESS = "in_progress", "处置中"
    PENDING_VERIFY = "pending_verify", "待核查"
    PENDING_RATING = "pending_rating", "待评价"
    CLOSED = "closed", "已结案"
    VOID = "void", "已作废"


class DeadlineState(models.TextChoices):
    NONE = "none", "—"
    NORMAL = "normal", "正常"
    WARNING = "warning", "即将超期"
    OVERDUE = "overdue", "已超期"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class CloseReason(models.TextChoices):
    RATED = "rated", "已评价"
    UNRATED = "unrated", "未评价"
    CENTRE = "centre", "中心结案"


# workflow.ACTIVE_STATES, sorted, as the partial indexes of open cases state them (the reads use the same
# sorted list, so PostgreSQL can prove they fall inside the index; workflow imports this module).
_ACTIVE_STATUSES = ["in_progress", "new", "pending_dispatch", "pending_sign", "pending_verify"]


class Case(models.Model):
    number = models.CharField("事件编号", max_length=20, null=True)
    title = models.CharField("标题", max_length=100)
    description = models.TextField("内容", max_length=5000)
    channel = models.CharField("来源渠道", max_length=16, choices=Channel.choices, default=Channel.WEB)
    category = models.ForeignKey(
        Category, verbose_name="分类", null=True, blank=True, on_delete=models.PROTECT
    )
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.NEW)
    version = models.PositiveIntegerField("版本", default=1)

    reporter_name = models.CharField("反映人", max_length=32, blank=True)
    reporter_phone = EncryptedCharField("联系电话", blank=True)
    # Keyed hash of the full number: "has this caller reported before?" without decrypting anything.
    reporter_phone_hash = models.CharField(max_length=64, blank=True)
    reporter_phone_last4 = models.CharField(max_length=4, blank=True)

    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    outside_grid = models.BooleanField("位置不在任何网格内", default=False)
    # Place and assignment FKs are served by the composite (x, status, -created_at) indexes in Meta;
    # a second single-column index on each would only cost every write.
    grid = models.ForeignKey(
        Grid,
        verbose_name="所在网格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    village = models.ForeignKey(
        AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    town = models.ForeignKey(
        AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    county = models.ForeignKey(
        AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    assigned_grid = models.ForeignKey(
        Grid,
        verbose_name="承办网格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
        db_index=False,
    )
    assigned_department = models.ForeignKey(
        Department,
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签收人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    created_at = models.DateTimeField("登记时间", db_index=True)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    resolved_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)

    # Start of the running clock: the dispatch, or the restart after rework.
    clock_started_at = models.DateTimeField("计时起点", null=True, blank=True)
    sign_due_at = models.DateTimeField("签收时限", null=True, blank=True)
    resolve_due_at = models.DateTimeField("办结时限", null=True, blank=True)
    deadline_state = models.CharField(
        "时限状态", max_length=8, choices=DeadlineState.choices, default=DeadlineState.NONE
    )
    # When the time-limit state next changes (80 % mark or deadline); the worker claims rows by it.
    deadline_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    rating_due_at = models.DateTimeField("评价截止", null=True, blank=True, db_index=True)

    extension_pending = models.BooleanField("延期待审批", default=False)
    extension_hours = models.PositiveIntegerField("申请延期（小时）", default=0)
    rating = models.CharField("评价", max_length=12, choices=Rating.choices, blank=True)
    close_reason = models.CharField("结案方式", max_length=8, choices=CloseReason.choices, blank=True)
    rework_count = models.PositiveIntegerField("返工次数", default=0)
    return_count = models.PositiveIntegerField("退回次数", default=0)
    extension_count = models.PositiveIntegerField("延期次数", default=0)
    resolved_on_time = models.BooleanField("按期办结", null=True, blank=True)
    # A client's retry of the same submission returns the case created the first time.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "事件"
        verbose_name_plural = "事件"
        indexes = [
            models.Index(fields=["status", "-created_at"], name="case_status_created"),
            models.Index(fields=["county", "status", "-created_at"], name="case_county_status"),
            models.Index(fields=["town", "status", "-created_at"], name="case_town_status"),
            models.Index(fields=["village", "status", "-created_at"], name="case_village_status"),
            models.Index(fields=["grid", "status", "-created_at"], name="case_grid_status"),
            models.Index(fields=["assigned_grid", "status", "-created_at"], name="case_agrid_status"),
            models.Index(fields=["assigned_department", "status", "-created_at"], name="case_dept_status"),
            models.Index(fields=["reporter_phone_last4", "number"], name="case_track"),
            models.Index(fields=["reporter_phone_hash"], name="case_phone_hash"),
            # The few cases whose clock is late: the 即将超期/已超期 lists read these, not the archive.
            models.Index(
                fields=["deadline_state", "-created_at"],
                name="case_late",
                condition=models.Q(deadline_state__in=["warning", "overdue"]),
            ),
            # The open cases of a category tree per grid in a county or the city (the cockpit map's
            # unresolved disputes), in the states of workflow.ACTIVE_STATES. Without it a BitmapAnd
            # read every case of the categories: 888k index entries for 4.8k open disputes at 10M
            # cases, ≈ 300 ms for the city and 125 ms for a county → 21 ms and 2 ms.
            models.Index(
                fields=["county", "category", "grid"],
                name="case_open_category",
                condition=models.Q(status__in=_ACTIVE_STATUSES),
            ),
            # The cases a district closed (结案 / 不予受理) since a day: the daily report's unresolved
            # disputes at past days' ends (≈ 4.5 s → 0.1 s for a district of the 10M-case city).
            models.Index(fields=["county", "closed_at"], name="case_county_closed"),
            # The open overdue cases per grid (the cockpit map's 已超期). case_late alone made the city's
            # count a bitmap heap scan of every overdue case's page: 23k pages, ≈ 110 ms warm at 10M
            # cases; this is read index-only.
            models.Index(
                fields=["county", "grid"],
                name="case_open_overdue",
                condition=models.Q(
                    deadline_state="overdue",
                    status__in=_ACTIVE_STATUSES,
                ),
            ),
        ]
        constraints = [
            # Constraints rather than unique=True: no extra LIKE-pattern index on PostgreSQL.
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
            models.UniqueConstraint(fields=["idempotency_key"], name="case_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseEvent(models.Model):
    """One step on a case's timeline: the audit trail and the source of statistics."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField("操作人", max_length=64)
    action = models.CharField("动作", max_length=32)
    from_status = models.CharField("原状态", max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=Status.choices, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("附加信息", default=dict, blank=True)
    created_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_time"),
            # The few 已超期 events: the daily report replays the cases that were ever overdue (its
            # 交办 list and day-on-day changes). Without it each replay started with a scan of every
            # event: 66M rows, 3.7 s warm, ≈ 16 GB read cold at 10M cases.
            models.Index(
                fields=["case"], name="event_overdue", condition=models.Q(action="deadline_overdue")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action}"


class AttachmentKind(models.TextChoices):
    REPORT = "report", "反映照片"
    RESULT = "result", "处置照片"


def attachment_path(instance: "CaseAttachment", filename: str) -> str:
    """An unguessable name as a second line of defence; photos are only served by scoped views."""
    suffix = Path(filename).suffix.lower()[:8] or ".jpg"
    return f"cases/{instance.case.created_at:%Y/%m}/{uuid.uuid4().hex}{suffix}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    kind = models.CharField(
        "类型", max_length=8, choices=AttachmentKind.choices, default=AttachmentKind.REPORT
    )
    file = models.ImageField("照片", upload_to=attachment_path)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.file.name or ""

    def get_absolute_url(self) -> str:
        """The scoped address of the photo (staff in scope, or a resident who tracked the case)."""
        return reverse("web:case_photo", args=[self.case_id, self.pk])
