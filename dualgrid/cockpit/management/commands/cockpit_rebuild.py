"""``dualgrid cockpit_rebuild``: recompute the cockpit's daily figures from the case timeline, and the
monthly and yearly rows of the months and years those days belong to. Run it once without arguments
after upgrading to cockpit migration 0008 (the monthly and yearly rows start empty)."""

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dualgrid.cockpit.rollup import rebuild, rebuild_all


class Command(BaseCommand):
    help = (
        "重算驾驶舱统计（按日，及所涉月份、年份的按月、按年汇总）：不带参数重算全部历史，"
        "或用 --from/--to 重算指定日期（北京时间）"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="day_from", type=date.fromisoformat, help="起始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="day_to", type=date.fromisoformat, help="截止日期 YYYY-MM-DD（含）")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.monotonic()
        day_from, day_to = opts["day_from"], opts["day_to"]
        if (day_from is None) != (day_to is None):
            raise CommandError("--from 与 --to 需同时给出")
        if day_from is None:
            rows = rebuild_all(log=self.stdout.write)
        else:
            if day_from > day_to:
                raise CommandError("--from 不能晚于 --to")
            rows = rebuild(day_from, day_to, log=self.stdout.write)
        self.stdout.write(f"rebuilt {rows} daily figure rows in {time.monotonic() - started:.1f} s")
