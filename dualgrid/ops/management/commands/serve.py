"""``dualgrid serve``: the production server (gunicorn, threaded workers), not runserver."""

import os
from typing import Any

from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class GunicornApp(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from dualgrid.wsgi import application

        return application


class Command(BaseCommand):
    help = "启动生产级 HTTP 服务（gunicorn）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("DUALGRID_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("DUALGRID_THREADS", "4")))
        parser.add_argument("--access-log", action="store_true", help="打印访问日志")

    def handle(self, *args: Any, **opts: Any) -> None:
        options = {
            "bind": f"{opts['host']}:{opts['port']}",
            "workers": opts["workers"],
            "threads": opts["threads"],
            "worker_class": "gthread" if opts["threads"] > 1 else "sync",
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 5,
            "max_requests": 20000,
            "max_requests_jitter": 2000,
            "accesslog": "-" if opts["access_log"] else None,
            "errorlog": "-",
            "proc_name": "dualgrid",
        }
        self.stdout.write(
            f"dualgrid serving on http://{options['bind']} ({opts['workers']} workers × {opts['threads']} threads)"
        )
        GunicornApp(options).run()
