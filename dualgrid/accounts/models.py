"""Accounts: every user has one role and one scope (a unit, a department or a set of grids)."""

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from dualgrid.places.models import AdminUnit, Department, Grid


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    DISPATCHER = "dispatcher", "中心调度员"
    CALLTAKER = "calltaker", "话务受理员"
    HANDLER = "handler", "部门处置人员"
    GRIDWORKER = "gridworker", "网格员"
    LEADER = "leader", "领导"


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.CALLTAKER)
    display_name = models.CharField("姓名", max_length=32, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    unit = models.ForeignKey(
        AdminUnit,
        verbose_name="管辖区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    department = models.ForeignKey(
        Department,
        verbose_name="所属部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    grids = models.ManyToManyField(Grid, verbose_name="负责网格", blank=True, related_name="workers")

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return f"{self.display_name or self.username}（{self.get_role_display()}）"


def effective_role(user: User) -> str:
    """The role every check sees: a superuser acts as system administrator whatever role is stored."""
    return Role.ADMIN if user.is_superuser else user.role


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the REST API; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user} 的令牌（{self.created_at:%Y-%m-%d}）"


class AuditEntry(models.Model):
    """Who saw or exported personal data, and when (unmasking, exports, downloads)."""

    user = models.ForeignKey(
        User, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField("动作", max_length=32, db_index=True)
    object_type = models.CharField("对象类型", max_length=64)
    object_id = models.CharField("对象", max_length=64, blank=True)
    detail = models.CharField("说明", max_length=500, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.object_type}#{self.object_id}"
