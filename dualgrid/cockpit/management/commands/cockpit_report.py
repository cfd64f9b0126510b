"""``dualgrid cockpit_report``: generate (or regenerate) the daily report of a date."""

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dualgrid.cockpit.report import FiguresNotReady, place_of_unit, report_generate, subscribed_places
from dualgrid.places.models import AdminUnit


class Command(BaseCommand):
    help = "生成每日报告（PDF 与 Excel 存档）：--date 报告日期，--unit 单位代码（缺省为订阅的单位或各区县）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--date", dest="day", type=date.fromisoformat, required=True, help="报告日期 YYYY-MM-DD"
        )
        parser.add_argument("--unit", help="单位代码（12位区划代码）")
        parser.add_argument("--keep", action="store_true", help="已有存档时不重新生成")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["unit"]:
            unit = AdminUnit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"没有代码为 {opts['unit']} 的单位")
            places = [place_of_unit(unit)]
        else:
            places = subscribed_places()
        for place in places:
            started = time.monotonic()
            try:
                report, generated = report_generate(place, opts["day"], replace=not opts["keep"])
            except FiguresNotReady as exc:
                raise CommandError(
                    f"{exc.message}（先运行 dualgrid worker 或 dualgrid cockpit_rebuild）"
                ) from exc
            what = "generated" if generated else "kept"
            self.stdout.write(
                f"{what} {report.name} {report.day}: {len(report.pdf)} B PDF, {len(report.xlsx)} B Excel, "
                f"{len(report.data['assignments'])} overdue cases, {time.monotonic() - started:.1f} s"
            )
