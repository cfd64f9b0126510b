"""Reads of import jobs, scoped: a user sees the jobs they started; an administrator sees all."""

from __future__ import annotations

from django.db.models import QuerySet

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import NotFound

from .models import ImportJob


def importjobs_for_user(user: User) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.select_related("created_by")
    if user.is_superuser or user.role == Role.ADMIN:
        return qs
    return qs.filter(created_by=user)


def importjob_get_for_user(user: User, job_id: int) -> ImportJob:
    job = importjobs_for_user(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("导入任务不存在", field="id", code="not_found")
    return job
