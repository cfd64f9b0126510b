"""Import jobs: one uploaded workbook, its progress and its outcome."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models


class PrivateStorage(FileSystemStorage):
    """Uploaded registers and error reports hold ID numbers and phones: they live outside MEDIA_ROOT
    (which ``/media/`` serves to anyone) and are only handed out by a view that checks the user.

    ``DUALGRID["PRIVATE_ROOT"]`` (default ``<var>/private``) is read on every use, so tests and
    deployments can move it."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        root = settings.DUALGRID.get("PRIVATE_ROOT") or Path(settings.VAR_DIR) / "private"
        return str(root)

    @property  # type: ignore[override]
    def location(self) -> str:
        return str(Path(self.base_location).resolve())

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return ("dualgrid.exchange.models.PrivateStorage", (), {})


private_storage = PrivateStorage()


def upload_path(instance: ImportJob, filename: str) -> str:
    return f"exchange/imports/{uuid.uuid4().hex}.xlsx"


def report_path(instance: ImportJob, filename: str) -> str:
    return f"exchange/reports/{uuid.uuid4().hex}.xlsx"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队"
    VALIDATING = "validating", "校验中"
    APPLYING = "applying", "导入中"
    DONE = "done", "完成"
    FAILED = "failed", "失败"


RUNNING = (JobStatus.VALIDATING, JobStatus.APPLYING)


class ImportJob(models.Model):
    kind = models.CharField("导入类型", max_length=32)
    source = models.FileField("上传文件", storage=private_storage, upload_to=upload_path, blank=True)
    original_name = models.CharField("文件名", max_length=200)
    status = models.CharField(
        "状态", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    error_rows = models.PositiveIntegerField("出错行数", default=0)
    # The first errors, for the page: [[行号, 列名, 原因], …]; all of them are in the error report.
    errors = models.JSONField("错误明细", default=list, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    error_report = models.FileField("错误报告", storage=private_storage, upload_to=report_path, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Refreshed while a job runs; a job in progress with a stale heartbeat was abandoned by a worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_status_display()}）"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.processed_rows * 100 // self.total_rows)
