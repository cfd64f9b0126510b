"""``dualgrid watch_import --connector SLUG --format wecom|csv FILE [--map group_id=群ID,…]``.

Chat histories of groups no bot can join: WeCom 会话内容存档 records (JSON lines) or a CSV with a
column mapping. Good rows are stored (once: a re-import stores nothing new), bad rows are listed with
their line number and reason; the command fails only when the file as a whole cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dualgrid.watch.imports import CSV_FIELDS, FORMATS, ImportFailed, import_file
from dualgrid.watch.models import Connector


class Command(BaseCommand):
    help = "导入群聊天记录（企业微信会话内容存档 JSON 行，或 CSV 表格）；重复导入不会重复入库"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="聊天记录文件")
        parser.add_argument("--connector", required=True, help="消息接入的接入标识（slug）")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="wecom 或 csv")
        parser.add_argument(
            "--map",
            default="",
            help="CSV列对应，如 "
            + ",".join(f"{k}={v}" for k, v in CSV_FIELDS.items())
            + "（未写的用默认列名）",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        connector = Connector.objects.filter(slug=opts["connector"]).first()
        if connector is None:
            raise CommandError(f"消息接入“{opts['connector']}”不存在（在 /admin/ 的“消息接入”中创建）")
        if not connector.active:
            raise CommandError(f"消息接入“{connector.slug}”已停用")
        try:
            with path.open("rb") as stream:
                report = import_file(connector, opts["format"], stream, opts["map"])
        except ImportFailed as exc:
            raise CommandError(f"未导入：{exc}") from None
        for line in report.summary():
            self.stdout.write(line)
