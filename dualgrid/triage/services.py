"""Every write to the triage models: registering, activating, rolling back, deactivating a version.

Each change takes effect in this process when its transaction commits and in the others within
``DUALGRID["TRIAGE_CACHE_SECONDS"]`` (see engine.py): no restart.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from dualgrid.lib.errors import Invalid, NotFound

from . import engine
from .learn import MODEL_FILE, TrainingError, models_root, models_root_path, read_meta
from .models import ModelTask, TriageModel


def _stored_path(folder: Path) -> str:
    root = models_root().resolve()
    folder = folder.resolve()
    return str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)


@transaction.atomic
def register_model(path: str | Path, *, note: str = "", activate: bool = False) -> TriageModel:
    """Record a trained model folder as a version. A folder outside VAR_DIR/triage is copied in first."""
    folder = Path(path)
    try:
        meta = read_meta(folder)
    except TrainingError as exc:
        raise Invalid({"path": str(exc)}) from exc
    if not (folder / MODEL_FILE).is_file():
        raise Invalid({"path": f"{folder}: 没有 {MODEL_FILE}"})
    version = str(meta["version"])
    if TriageModel.objects.filter(version=version).exists():
        raise Invalid({"version": f"版本 {version} 已登记"})
    task = str(meta.get("task", ModelTask.CATEGORY))
    if task not in ModelTask.values:
        raise Invalid({"task": f"未知任务 {task}"})
    root = models_root().resolve()
    if not folder.resolve().is_relative_to(root):
        target = root / version
        if target.exists():
            raise Invalid({"path": f"{target} 已存在"})
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, target)
        folder = target
    created = meta.get("created_at")
    model = TriageModel.objects.create(
        version=version,
        task=task,
        path=_stored_path(folder),
        labels=list(meta.get("labels", [])),
        metrics=dict(meta.get("metrics", {})),
        data_sha256=str(meta.get("data_sha256", "")),
        created_at=datetime.fromisoformat(created) if created else timezone.now(),
        note=(note or str(meta.get("note", "")))[:200],
    )
    if activate:
        activate_model(model)
    return model


@transaction.atomic
def activate_model(model: TriageModel) -> TriageModel:
    """Make this version the live one of its task; the one it replaces is remembered for a rollback."""
    model = TriageModel.objects.select_for_update().get(pk=model.pk)
    if not (models_root_path(model.path) / MODEL_FILE).is_file():
        raise Invalid({"path": f"模型文件不存在：{models_root_path(model.path)}"})
    current = TriageModel.objects.select_for_update().filter(task=model.task, active=True).first()
    if current is not None and current.pk == model.pk:
        return model
    if current is not None:
        current.active = False
        current.save(update_fields=["active"])
    model.active = True
    model.activated_at = timezone.now()
    model.previous = current
    model.save(update_fields=["active", "activated_at", "previous"])
    transaction.on_commit(engine.invalidate)
    return model


@transaction.atomic
def rollback(task: str) -> TriageModel | None:
    """Back to the version that was live before the current one (rules alone if there was none)."""
    current = TriageModel.objects.select_for_update().filter(task=task, active=True).first()
    if current is None:
        raise NotFound("该任务没有使用中的模型")
    target = current.previous
    current.active = False
    current.save(update_fields=["active"])
    if target is not None:
        target.active = True
        target.activated_at = timezone.now()
        target.save(update_fields=["active", "activated_at"])
    transaction.on_commit(engine.invalidate)
    return target


@transaction.atomic
def deactivate(task: str) -> None:
    """No model for this task: the rules decide alone."""
    TriageModel.objects.filter(task=task, active=True).update(active=False)
    transaction.on_commit(engine.invalidate)
