#!/usr/bin/env python3
"""Build the vendored front-end assets for dualgrid.

The product runs on isolated intranets: nothing is fetched from a CDN at run
time.  Front-end libraries are pinned in package.json / package-lock.json and
installed from npm; this script copies exactly the files the app serves into
``dualgrid/static/vendor/`` (which is git-ignored and generated).

Steps:
1. ``npm ci --no-audit --no-fund`` if node_modules is missing or older than
   package-lock.json.
2. Copy the files listed in ASSETS below into dualgrid/static/vendor/.
   Files whose content is already up to date are left alone; files in the
   vendor directory that are not listed are removed.

A trailing ``sourceMappingURL`` comment is stripped from copied files whose
map is not shipped: Django's ManifestStaticFilesStorage rewrites those
references during collectstatic and fails when the .map file is absent.

Usage: python3 scripts/build_assets.py
Standard library only.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
LOCKFILE = ROOT / "package-lock.json"
VENDOR = ROOT / "dualgrid" / "static" / "vendor"

# (source relative to node_modules, destination relative to VENDOR)
ASSETS: list[tuple[str, str]] = [
    ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
    ("alpinejs/dist/cdn.min.js", "alpine.min.js"),
    ("echarts/dist/echarts.min.js", "echarts.min.js"),
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
]
# Directories whose files are all copied (source dir, destination dir).
ASSET_DIRS: list[tuple[str, str]] = [
    ("leaflet/dist/images", "leaflet/images"),
]
PACKAGES = ["htmx.org", "alpinejs", "echarts", "leaflet"]

SOURCE_MAP_RE = re.compile(
    rb"(?:\r?\n)?(?://# sourceMappingURL=[^\r\n]*|/\*# sourceMappingURL=[^\r\n]*?\*/)[ \t]*(?:\r?\n)?\Z"
)


def fail(message: str) -> NoReturn:
    print(f"build_assets: ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def node_modules_stale() -> str | None:
    """Return why npm ci is needed, or None if node_modules is current."""
    if not LOCKFILE.is_file():
        fail(f"{LOCKFILE.relative_to(ROOT)} not found; it must be committed")
    if not NODE_MODULES.is_dir():
        return "node_modules is missing"
    # npm writes node_modules/.package-lock.json on every install.
    marker = NODE_MODULES / ".package-lock.json"
    stamp = marker if marker.is_file() else NODE_MODULES
    if stamp.stat().st_mtime < LOCKFILE.stat().st_mtime:
        return "node_modules is older than package-lock.json"
    return None


def run_npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        fail(
            "npm was not found on PATH. Install Node.js with npm "
            "(e.g. `apt-get install npm`) and rerun this script."
        )
    cmd = [npm, "ci", "--no-audit", "--no-fund"]
    print(f"build_assets: running {' '.join(['npm', *cmd[1:]])}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        fail(f"npm ci failed with exit code {result.returncode}")
    # npm ci may leave mtimes older than the lockfile on odd filesystems;
    # touch the marker so the next run does not reinstall needlessly.
    marker = NODE_MODULES / ".package-lock.json"
    if marker.is_file():
        marker.touch()


def planned_copies() -> list[tuple[Path, Path]]:
    copies: list[tuple[Path, Path]] = []
    missing: list[str] = []
    for src_rel, dst_rel in ASSETS:
        src = NODE_MODULES / src_rel
        if not src.is_file():
            missing.append(f"node_modules/{src_rel}")
            continue
        copies.append((src, VENDOR / dst_rel))
    for src_rel, dst_rel in ASSET_DIRS:
        src_dir = NODE_MODULES / src_rel
        files = sorted(p for p in src_dir.iterdir() if p.is_file()) if src_dir.is_dir() else []
        if not files:
            missing.append(f"node_modules/{src_rel}/*")
            continue
        copies.extend((p, VENDOR / dst_rel / p.name) for p in files)
    if missing:
        fail(
            "source file(s) missing: "
            + ", ".join(missing)
            + ". Check the versions pinned in package.json, or delete node_modules and rerun."
        )
    return copies


def prepared_content(src: Path, shipped: set[Path]) -> tuple[bytes, bool]:
    """Return the bytes to write and whether a source-map comment was removed."""
    data = src.read_bytes()
    if src.suffix not in (".js", ".css"):
        return data, False
    match = SOURCE_MAP_RE.search(data)
    if match is None:
        return data, False
    map_name = re.search(rb"sourceMappingURL=([^\s*]+)", match.group(0))
    if map_name and (src.parent / map_name.group(1).decode()).resolve() in shipped:
        return data, False
    return data[: match.start()] + b"\n", True


def copy_assets(copies: list[tuple[Path, Path]]) -> None:
    shipped_sources = {src.resolve() for src, _ in copies}
    wanted = {dst for _, dst in copies}
    counts = {"copied": 0, "unchanged": 0, "removed": 0}
    for src, dst in copies:
        data, stripped = prepared_content(src, shipped_sources)
        rel = dst.relative_to(ROOT)
        if dst.is_file() and dst.read_bytes() == data:
            print(f"  unchanged {rel}")
            counts["unchanged"] += 1
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(dst)
        note = " (sourceMappingURL comment stripped)" if stripped else ""
        print(f"  copied    {rel} <- {src.relative_to(ROOT)}{note}")
        counts["copied"] += 1
    # Remove anything in the generated vendor dir that is no longer wanted.
    if VENDOR.is_dir():
        for path in sorted(VENDOR.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
                print(f"  removed   {path.relative_to(ROOT)} (not in asset list)")
                counts["removed"] += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    print(
        "build_assets: {copied} copied, {unchanged} unchanged, {removed} removed in {vendor}".format(
            vendor=VENDOR.relative_to(ROOT), **counts
        )
    )


def report_versions() -> None:
    parts = []
    for name in PACKAGES:
        meta = NODE_MODULES / name / "package.json"
        try:
            version = json.loads(meta.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            version = "?"
        parts.append(f"{name} {version}")
    print("build_assets: packages: " + ", ".join(parts))


def main() -> int:
    reason = node_modules_stale()
    if reason:
        print(f"build_assets: {reason}")
        run_npm_ci()
    else:
        print("build_assets: node_modules is up to date with package-lock.json; skipping npm ci")
    report_versions()
    copy_assets(planned_copies())
    return 0


if __name__ == "__main__":
    sys.exit(main())
