"""The online grid watched: chat-group messages, their triage, the patrol feed, replies and publicity.

Messages arrive through connectors (a signed JSON webhook, OneBot v11, chat-history imports). Each is
stored once (unique per connector and message id), triaged at once, and either left as chatter or
flagged for the patrol feed (巡群) of the grid that owns the group. Everything that goes back out to a
group — a case's result, a notice — passes through the outbox, which retries and logs each attempt.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from dualgrid.cases.models import Case, Urgency
from dualgrid.lib.crypto import EncryptedCharField
from dualgrid.places.models import AdminUnit, ChatGroup, Grid, Platform


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ConnectorKind(models.TextChoices):
    WEBHOOK = "webhook", "通用Webhook（JSON）"
    ONEBOT = "onebot", "OneBot v11（QQ机器人）"
    IMPORT = "import", "聊天记录导入"


class Connector(models.Model):
    """One source of group messages, with its own secret; also the way answers go back out."""

    slug = models.SlugField(
        "接入标识", max_length=32, unique=True, help_text="出现在接收地址中：/hooks/<接入标识>/…"
    )
    name = models.CharField("名称", max_length=64)
    kind = models.CharField(
        "类型", max_length=8, choices=ConnectorKind.choices, default=ConnectorKind.WEBHOOK
    )
    platform = models.CharField("平台", max_length=16, choices=Platform.choices, default=Platform.WECHAT)
    secret = EncryptedCharField("签名密钥", default=new_secret, help_text="对方用它签名推送的消息（HMAC）")
    send_url = models.CharField(
        "发送地址",
        max_length=300,
        blank=True,
        help_text="回复与宣传的发送接口：通用Webhook为对方的接收URL；OneBot为HTTP API根地址，如 http://127.0.0.1:5700",
    )
    send_token = EncryptedCharField(
        "发送令牌", blank=True, help_text="OneBot 的 access_token；通用Webhook留空则用签名密钥签名"
    )
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "消息接入"
        verbose_name_plural = "消息接入"
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class MessageKind(models.TextChoices):
    TEXT = "text", "文字"
    IMAGE = "image", "图片"
    VOICE = "voice", "语音"
    VIDEO = "video", "视频"
    FILE = "file", "文件"
    OTHER = "other", "其他"


class MessageState(models.TextChoices):
    CHATTER = "chatter", "无需处理"
    FLAGGED = "flagged", "待处置"
    CASE = "case", "已转事件"
    LINKED = "linked", "已并入事件"
    DISMISSED = "dismissed", "已忽略"
    QUARANTINED = "quarantined", "未知群（待关联）"


class GroupMessage(models.Model):
    """One message of one chat group, stored once however often it is delivered."""

    # Indexes suit a table that grows by millions of rows a month: the unique key leads with the
    # connector, so that FK needs no index of its own; each other index serves one page or task.
    connector = models.ForeignKey(
        Connector, verbose_name="接入", on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    external_id = models.CharField("消息ID", max_length=128)
    external_group_id = models.CharField("群ID", max_length=128)
    chat_group = models.ForeignKey(
        ChatGroup,
        verbose_name="网格群",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name="网格",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_messages",
        db_index=False,
    )
    sender_id = models.CharField("发送人ID", max_length=128, blank=True)
    sender_name = models.CharField("发送人", max_length=64, blank=True)
    sender_phone = EncryptedCharField("发送人手机号", blank=True)
    kind = models.CharField("类型", max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    text = models.TextField("内容", blank=True)
    truncated = models.BooleanField("内容过长已截断", default=False)
    attachment = models.JSONField("附件信息", default=dict, blank=True)
    sent_at = models.DateTimeField("发送时间")
    received_at = models.DateTimeField("接收时间")
    clock_skew = models.BooleanField("发送时间异常", default=False)
    # Triage, at arrival.
    actionable = models.BooleanField("需处置", default=False)
    triage_kind = models.CharField("研判类型", max_length=16, blank=True)
    category_code = models.CharField("建议分类", max_length=16, blank=True)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    confidence = models.FloatField("置信度", default=0.0)
    reasons = models.JSONField("研判依据", default=list, blank=True)
    model_version = models.CharField("模型版本", max_length=64, blank=True)
    duplicate_of = models.ForeignKey(
        Case,
        verbose_name="疑似重复事件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # What people did with it.
    state = models.CharField(
        "状态", max_length=12, choices=MessageState.choices, default=MessageState.CHATTER
    )
    case = models.ForeignKey(
        Case,
        verbose_name="关联事件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_messages",
        db_index=False,
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    handled_at = models.DateTimeField("处置时间", null=True, blank=True)
    dismiss_reason = models.CharField("忽略原因", max_length=200, blank=True)
    alerted_at = models.DateTimeField("超时提醒时间", null=True, blank=True)

    class Meta:
        verbose_name = "群消息"
        verbose_name_plural = "群消息"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "external_id"], name="watch_message_once"),
        ]
        indexes = [
            models.Index(fields=["chat_group", "sent_at"], name="watch_msg_group_time"),
            models.Index(fields=["grid", "sent_at"], name="watch_msg_grid_time"),
            models.Index(fields=["case"], name="watch_msg_case", condition=Q(case__isnull=False)),
            # Retention deletes old chatter only.
            models.Index(fields=["sent_at"], name="watch_msg_chatter_time", condition=Q(state="chatter")),
            # The patrol feed: flagged messages per grid, urgent and newest first.
            models.Index(
                fields=["grid", "urgency", "-sent_at"],
                name="watch_msg_flagged",
                condition=Q(state="flagged"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender_name}：{self.text[:30]}"


class QuarantinedGroup(models.Model):
    """A group id no chat group is registered for: its messages are kept, not dropped, until mapped."""

    connector = models.ForeignKey(
        Connector, verbose_name="接入", on_delete=models.CASCADE, related_name="unknown_groups"
    )
    external_group_id = models.CharField("群ID", max_length=128)
    group_name = models.CharField("群名称（来自消息）", max_length=128, blank=True)
    first_seen = models.DateTimeField("首次出现")
    last_seen = models.DateTimeField("最近出现")
    message_count = models.PositiveIntegerField("消息数", default=0)
    mapped_to = models.ForeignKey(
        ChatGroup,
        verbose_name="关联到网格群",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    mapped_at = models.DateTimeField("关联时间", null=True, blank=True)

    class Meta:
        verbose_name = "未知群"
        verbose_name_plural = "未知群（待关联）"
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "external_group_id"], name="watch_unknown_group_once"
            ),
        ]

    def __str__(self) -> str:
        return self.group_name or self.external_group_id


class PatrolWindow(models.Model):
    """A key patrol window (重点时段). Rows without a unit are the default for units without their own."""

    unit = models.ForeignKey(
        AdminUnit,
        verbose_name="适用单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="patrol_windows",
    )
    name = models.CharField("名称", max_length=32)
    start = models.TimeField("开始")
    end = models.TimeField("结束")

    class Meta:
        verbose_name = "巡群重点时段"
        verbose_name_plural = "巡群重点时段"
        ordering = ["unit_id", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="watch_window_order")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"


class PatrolLog(models.Model):
    """A grid worker looked at the feed or acted on it: the evidence of a patrol at that time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=16, default="view")

    class Meta:
        verbose_name = "巡群记录"
        verbose_name_plural = "巡群记录"
        indexes = [models.Index(fields=["user", "at"], name="watch_patrol_user_time")]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M} {self.action}"


class OutboxKind(models.TextChoices):
    REPLY = "reply", "结果回复"
    NOTICE = "notice", "宣传推送"


class OutboxStatus(models.TextChoices):
    DRAFT = "draft", "草稿（待确认）"
    PENDING = "pending", "待发送"
    SENT = "sent", "已送达"
    FAILED = "failed", "发送失败（已停止重试）"
    CANCELLED = "cancelled", "已取消"


class Outbox(models.Model):
    """One message to one group. Sent by the worker with retries; every attempt is logged."""

    kind = models.CharField("类型", max_length=8, choices=OutboxKind.choices)
    connector = models.ForeignKey(
        Connector, verbose_name="接入", on_delete=models.PROTECT, related_name="outbox"
    )
    chat_group = models.ForeignKey(
        ChatGroup, verbose_name="网格群", on_delete=models.PROTECT, related_name="outbox"
    )
    external_group_id = models.CharField("群ID", max_length=128)
    text = models.TextField("内容", max_length=4000)
    case = models.ForeignKey(
        Case,
        verbose_name="事件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_replies",
    )
    notice = models.ForeignKey(
        "Notice",
        verbose_name="宣传",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    status = models.CharField(
        "状态", max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    external_message_id = models.CharField("对方消息ID", max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "发送队列"
        verbose_name_plural = "发送队列"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="watch_outbox_due", condition=Q(status="pending")),
        ]
        constraints = [
            # One reply per case and group, one delivery per notice and group: retries never double.
            models.UniqueConstraint(
                fields=["case", "chat_group"], name="watch_outbox_reply_once", condition=Q(kind="reply")
            ),
            models.UniqueConstraint(
                fields=["notice", "chat_group"], name="watch_outbox_notice_once", condition=Q(kind="notice")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.chat_group}"


class DeliveryAttempt(models.Model):
    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField("时间")
    ok = models.BooleanField("成功")
    status_code = models.PositiveSmallIntegerField("HTTP状态", null=True, blank=True)
    detail = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {'成功' if self.ok else '失败'} {self.detail}"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SCHEDULED = "scheduled", "已排期"
    QUEUED = "queued", "已进入发送队列"
    CANCELLED = "cancelled", "已取消"


class Notice(models.Model):
    """Publicity (宣传): a notice scheduled to the groups of chosen units, grids or residents' tags."""

    title = models.CharField("标题", max_length=100)
    body = models.TextField("内容", max_length=2000)
    theme = models.CharField("本周主题", max_length=50, blank=True, help_text="如：防范电信诈骗、防溺水")
    department = models.CharField("发布部门", max_length=64, blank=True)
    units = models.ManyToManyField(AdminUnit, verbose_name="发送到单位", blank=True, related_name="+")
    grids = models.ManyToManyField(Grid, verbose_name="发送到网格", blank=True, related_name="+")
    tags = models.ManyToManyField(
        "people.Tag", verbose_name="发送到有此类人员的网格", blank=True, related_name="+"
    )
    scheduled_at = models.DateTimeField("发送时间")
    status = models.CharField("状态", max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    queued_at = models.DateTimeField("入队时间", null=True, blank=True)

    class Meta:
        verbose_name = "宣传推送"
        verbose_name_plural = "宣传推送"
        ordering = ["-scheduled_at", "-id"]

    def __str__(self) -> str:
        return self.title
