"""Triage configuration in the database: the keyword rules and the registered model versions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from dualgrid.cases.models import Urgency

from .rules import split_keywords


class RuleKind(models.TextChoices):
    EMERGENCY = "emergency", "突发事件"
    HAZARD = "hazard", "安全隐患"
    DISPUTE = "dispute", "纠纷"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    OPINION = "opinion", "舆情苗头"
    CHATTER = "chatter", "闲聊用语（减分）"
    AD = "ad", "广告用语（减分）"
    NOTICE = "notice", "宣传提示（减分）"
    NEWS = "news", "时事评论（减分）"


class TriageRule(models.Model):
    """Keywords that make a message actionable (or, for the 减分 kinds, less likely to be).

    Seeded from ``rules.DEFAULT_RULES`` by migration 0002; edits take effect in every process within
    ``DUALGRID["TRIAGE_CACHE_SECONDS"]`` (default 5).
    """

    name = models.CharField("规则名称", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=RuleKind.choices)
    category_code = models.CharField(
        "事件分类代码", max_length=16, blank=True, help_text="命中时建议的分类（如 1001 邻里纠纷），可空"
    )
    urgency = models.CharField(
        "紧急程度",
        max_length=8,
        choices=Urgency.choices,
        default=Urgency.NORMAL,
        help_text="紧急：命中即判为需处置且紧急",
    )
    weight = models.FloatField(
        "权重",
        default=1.0,
        help_text="1.0 单独命中即需处置；0.3–0.5 为提示词，需与其他线索同现；减分类型为扣减的分值",
    )
    keywords = models.TextField(
        "关键词", help_text="以换行、逗号、顿号或空格分隔；“甲+乙”表示两词同时出现（如 房租+卡号）"
    )
    active = models.BooleanField("启用", default=True)
    sort = models.PositiveIntegerField("排序", default=0)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "研判规则"
        verbose_name_plural = "研判规则"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    def clean(self) -> None:
        if not self.keyword_list():
            raise ValidationError({"keywords": "至少填写一个关键词"})
        if self.category_code:
            from dualgrid.cases.models import Category

            if not Category.objects.filter(code=self.category_code).exists():
                raise ValidationError({"category_code": "没有这个分类代码"})
        if self.weight < 0:
            raise ValidationError({"weight": "权重不能为负；减分请选择减分类型"})


class ModelTask(models.TextChoices):
    CATEGORY = "category", "分类"
    ACTIONABLE = "actionable", "是否需处置"


class TriageModel(models.Model):
    """A trained model version (files under VAR_DIR/triage/<version>/). At most one is active per task."""

    version = models.CharField("版本", max_length=64, unique=True)
    task = models.CharField("任务", max_length=16, choices=ModelTask.choices)
    path = models.CharField("存放目录", max_length=500)
    labels = models.JSONField("标签", default=list)
    metrics = models.JSONField("评估指标", default=dict, blank=True)
    data_sha256 = models.CharField("训练数据SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("训练时间")
    registered_at = models.DateTimeField("登记时间", auto_now_add=True)
    active = models.BooleanField("使用中", default=False)
    activated_at = models.DateTimeField("启用时间", null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        verbose_name="启用前的版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="回滚时恢复的版本",
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "研判模型"
        verbose_name_plural = "研判模型"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(active=True), name="triage_one_active_model_per_task"
            )
        ]

    def __str__(self) -> str:
        return self.version

    def metric_summary(self) -> str:
        m = self.metrics or {}
        parts = []
        if "macro_f1" in m:
            parts.append(f"macro-F1 {m['macro_f1']:.3f}")
        if "accuracy" in m:
            parts.append(f"准确率 {m['accuracy']:.3f}")
        if "n_train" in m:
            parts.append(f"样本 {m['n_train']}")
        return "，".join(parts) or "—"
