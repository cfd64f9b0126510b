"""``dualgrid import_grids FILE.geojson [--dry-run] [--village CODE]``: grid boundaries from GeoJSON.

All or nothing, idempotent by grid code; errors and warnings are printed in Chinese, one a line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dualgrid.places.models import AdminUnit, UnitLevel
from dualgrid.places.services import grids_import_geojson


class Command(BaseCommand):
    help = "从 GeoJSON 文件导入网格边界（全部通过才导入，按网格编码更新）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="GeoJSON FeatureCollection 文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--village", help="只允许导入该村/社区（12位区划代码）的网格")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        village = None
        if opts["village"]:
            village = AdminUnit.objects.filter(code=opts["village"], level=UnitLevel.VILLAGE).first()
            if village is None:
                raise CommandError(f"村/社区 {opts['village']} 不存在")
        report = grids_import_geojson(
            actor=None, data=path.read_bytes(), village=village, dry_run=opts["dry_run"]
        )
        for e in report.errors:
            where = f"第{e.index}个要素" if e.index else "文件"
            self.stderr.write(f"错误 {where} {e.code or ''} [{e.field_label}] {e.message}")
        for w in report.warnings:
            where = f"第{w.index}个要素 {w.code}" if w.index else w.code
            self.stdout.write(f"提醒 {where}：{w.message}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} 处错误，未导入任何网格")
        verb = "预检通过，将" if report.dry_run else "已导入："
        self.stdout.write(
            f"{verb}新增 {report.created} 个，更新 {report.updated} 个，未变 {report.unchanged} 个网格（共 {report.features} 个要素）"
        )
