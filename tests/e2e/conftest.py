"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (CI installs it, with
``fonts-noto-cjk``). A missing browser fails the tests instead of skipping them.
"""

import os

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import importlib  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from django.apps import apps as django_apps  # noqa: E402
from django.conf import settings as django_settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from PIL import Image  # noqa: E402

# The shared cast lives in dualgrid/conftest.py, outside this directory: bring its fixtures in scope.
from dualgrid import conftest as shared  # noqa: E402
from dualgrid.cases import config as workflow_config  # noqa: E402
from dualgrid.triage import engine as triage_engine  # noqa: E402

cast = shared.cast
_fast_password_hashing = shared._fast_password_hashing

# The data migrations that seed the shipped configuration: categories and time limits, standard
# duties, staff roles and tags, triage rules, patrol windows.
SEEDS = (
    ("dualgrid.cases.migrations.0002_default_configuration", "load"),
    ("dualgrid.places.migrations.0003_standard_duties", "load"),
    ("dualgrid.people.migrations.0002_default_configuration", "load"),
    ("dualgrid.triage.migrations.0002_default_rules", "load"),
    ("dualgrid.triage.migrations.0003_rule_kind_news", "forward"),
    ("dualgrid.watch.migrations.0002_default_windows", "seed"),
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-123456"
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 768}},
}
TIMEOUT_MS = 15_000


def screenshot_dir() -> Path:
    path = Path(django_settings.VAR_DIR) / "screenshots" / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium and fonts-noto-cjk "
            "(apt-get install chromium fonts-noto-cjk; .ci/run does it). Never `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    yield browser
    browser.close()
    pw.stop()


@dataclass
class Errors:
    """JavaScript errors and failed requests for our own static files, across every page of a test."""

    items: list[str] = field(default_factory=list)

    def watch(self, page: Any, who: str) -> None:
        page.on(
            "pageerror",
            lambda exc: self.items.append(
                f"{who}: page error on {page.url}: {exc}\n"
                + "\n".join((getattr(exc, "stack", "") or "").splitlines()[:14])
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.items.append(f"{who}: HTTP {r.status} {r.url}")
                if r.status >= 400 and "/static/" in r.url
                else None
            ),
        )
        # A request the browser dropped because the page navigated away (ERR_ABORTED) is no error.
        page.on(
            "requestfailed",
            lambda r: (
                self.items.append(f"{who}: request failed {r.url} {r.failure}")
                if "ERR_ABORTED" not in (r.failure or "")
                else None
            ),
        )


@pytest.fixture
def page_errors() -> Iterator[Errors]:
    errors = Errors()
    yield errors
    # Checked again here so that a test that forgot to look still fails on a JavaScript error.
    assert errors.items == [], "\n".join(errors.items)


@pytest.fixture
def site(live_server, cast, settings, tmp_path, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The live server over the shared cast, with uploads kept in tmp_path (served by the scoped views)."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    cache.clear()
    # The previous journey flushed the tables (seeds included) while its browser's last requests could
    # still reload the per-process configuration from the old rows: restore the shipped seeds (their
    # loaders are idempotent) and drop every in-process snapshot before this journey starts.
    for module, loader in SEEDS:
        getattr(importlib.import_module(module), loader)(django_apps, None)
    workflow_config.invalidate()
    triage_engine.invalidate()
    yield live_server
    cache.clear()


@pytest.fixture
def new_page(browser, page_errors) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """``new_page(who, "phone" | "desktop")``: a page in its own browser context (its own cookies)."""
    contexts: list[Any] = []

    def make(who: str, device: str) -> Any:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **DEVICES[device])
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page_errors.watch(page, who)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    """``shot(page, "03-worker-tasks")`` saves a full-page PNG under var/screenshots/e2e/."""
    directory = screenshot_dir()

    def take(page: Any, name: str) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login() -> Callable[[Any, str, str], None]:
    def do(page: Any, base_url: str, username: str) -> None:
        page.goto(f"{base_url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name=re.compile(r"登\s*录")).click()
        page.wait_for_selector(".userbox .user-name")

    return do


@pytest.fixture
def jpeg_path(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "result.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), "#4a7c59").save(buf, "JPEG", quality=85)
    path.write_bytes(buf.getvalue())
    return path
