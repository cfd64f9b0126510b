"""``dualgrid worker``: background work — time-limit states, closing unrated cases, Excel imports, and
the watch's round (urgent alerts, group reply drafts, due notices, sending the outbox).

Several workers may run at once (on one or many machines): every row is claimed with a
compare-and-swap update, so no change is recorded twice.
"""

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection

from dualgrid.cases.services import deadline_sweep, rating_sweep
from dualgrid.cockpit.report import reports_generate_due
from dualgrid.cockpit.rollup import rollup_pending
from dualgrid.cockpit.visitload import refresh_due as visit_counts_refresh_due
from dualgrid.cockpit.warnings import raise_warnings
from dualgrid.exchange.services import importjobs_process_next
from dualgrid.people.services import assignments_sync
from dualgrid.watch.tasks import run_round as watch_round

log = logging.getLogger("dualgrid.worker")


class Command(BaseCommand):
    help = "运行后台任务：时限预警/超期记录、逾期未评价自动结案"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出")
        parser.add_argument("--interval", type=float, default=settings.DUALGRID["WORKER_INTERVAL_SECONDS"])

    def handle(self, *args: Any, **opts: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"dualgrid worker started (every {opts['interval']}s)")
        while not stopping:
            started = time.monotonic()
            marked = closed = 0
            try:
                # Assignments that start or end today grant or withdraw grid access (变动即报、即时更新).
                synced = assignments_sync()
                if synced:
                    log.info("assignments: %s access changes applied", synced)
                while True:  # drain backlogs in batches before sleeping
                    batch_marked = deadline_sweep()
                    batch_closed = rating_sweep()
                    marked += batch_marked
                    closed += batch_closed
                    if (batch_marked < 500 and batch_closed < 500) or stopping:
                        break
                # One queued Excel import per round, so a long import never holds up the time limits.
                if not stopping:
                    importjobs_process_next()
                # The watch (巡群): urgent alerts, reply drafts, due notices, the outbox, chatter retention.
                if not stopping:
                    watch_round()
                rollup_pending()  # the cockpit's daily figures: settled timeline events since the watermark
                raise_warnings()  # the cockpit's warning rules over the last days' cases (idempotent)
                reports_generate_due()  # after DUALGRID_REPORT_TIME: yesterday's daily reports, once each
                if not stopping:
                    visit_counts_refresh_due()  # the map's overdue visits per grid, every few minutes
            except DatabaseError:
                # The database went away (restart, failover): keep going and retry next round.
                log.exception("worker round failed; retrying in %ss", opts["interval"])
                connection.close()
            if marked or closed:
                log.info("time limits: %d state changes recorded; %d unrated cases closed", marked, closed)
            if opts["once"]:
                self.stdout.write(f"recorded {marked} time-limit changes, closed {closed} unrated cases")
                return
            remaining = opts["interval"] - (time.monotonic() - started)
            while remaining > 0 and not stopping:
                time.sleep(min(remaining, 1.0))
                remaining -= 1.0
            close_old_connections()  # a database restart between rounds must not kill the worker
        self.stdout.write("dualgrid worker stopped")
