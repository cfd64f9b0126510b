"""Locating the grid of points among 10,000 grid polygons: bulk throughput and single-point latency.

    .venv/bin/python bench/locate_points.py [--grids 10000] [--points 1000000] [--singles 10000] [--seed 1]

Builds a Voronoi tessellation of ``--grids`` cells over a 1° x 1° region around 潼南 (irregular
polygons, ~6 neighbours each, like real grids), in memory, and loads it into the real
``places.selectors.GridLocator`` (the same index and lookups the platform uses; only the loading from
the grid table is skipped). Then:

- bulk: ``locate_many`` over ``--points`` random points (5 % of them outside every grid), best and
  median of 3 runs, in points per second; checked against ``locate`` on a sample;
- single: ``locate`` for ``--singles`` random points, one call each, p50/p95/p99 in milliseconds;
- memory: resident set size before and after building the index, and the peak.

Targets (issue #3): ≥ 100,000 points/s in bulk, < 0.2 ms for one point.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely import wkt
from shapely.geometry import MultiPoint, box

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
os.environ.setdefault("DUALGRID_VAR_DIR", str(ROOT / "bench" / "out" / "var"))

import django  # noqa: E402

django.setup()

from dualgrid.places.selectors import GridHit, GridLocator  # noqa: E402

REGION = box(105.34, 29.69, 106.34, 30.69)  # 1° x 1°, about 96 km x 111 km, centred on 潼南


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, nproc {nproc}, RAM {mem_kb / 1048576:.1f} GiB; Python {platform.python_version()}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), numpy {np.__version__}"
    )


def tessellation(n: int, rng: np.random.Generator, vertices: int) -> list:
    """Voronoi cells over REGION, their edges split until a cell has about ``vertices`` vertices
    (the demo district's grids have 26 on average, 41 at p95)."""
    seeds = MultiPoint(
        np.column_stack([rng.uniform(*REGION.bounds[0::2], n), rng.uniform(*REGION.bounds[1::2], n)])
    )
    cells = [cell.intersection(REGION) for cell in shapely.voronoi_polygons(seeds, extend_to=REGION).geoms]
    mean_perimeter = float(np.mean(shapely.length(cells)))
    return list(shapely.segmentize(cells, mean_perimeter / vertices))


def random_points(
    n: int, rng: np.random.Generator, outside_share: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = REGION.bounds
    lng, lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    outside = rng.random(n) < outside_share
    lng[outside] += 2.0  # east of the region: in no grid
    return lng, lat


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--singles", type=int, default=10_000)
    parser.add_argument("--vertices", type=int, default=30, help="vertices per grid polygon, on average")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    cells = tessellation(args.grids, rng, args.vertices)
    vertices = [len(c.exterior.coords) for c in cells]
    print(
        f"grids: {len(cells)} Voronoi cells, {statistics.mean(vertices):.1f} vertices on average (max {max(vertices)})"
    )
    # Load as the platform does: from WKT text, then prepare and index.
    texts = [c.wkt for c in cells]
    rss_before = rss_mb()
    started = time.perf_counter()
    geoms = [wkt.loads(t) for t in texts]
    locator = GridLocator.from_geometries([GridHit(i + 1, 0, 0, 0) for i in range(len(geoms))], geoms)
    build_s = time.perf_counter() - started
    rss_after = rss_mb()
    print(
        f"index: built from WKT in {build_s:.2f} s; RSS {rss_before:.0f} → {rss_after:.0f} MB (+{rss_after - rss_before:.0f} MB)"
    )

    lng, lat = random_points(args.points, rng)
    locator.locate_many(lng[:1000], lat[:1000])  # warm-up
    runs, cpu = [], []
    found: list[int | None] = []
    for _ in range(3):
        started, cpu_started = time.perf_counter(), time.process_time()
        found = locator.locate_many(lng, lat)
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    located = sum(1 for f in found if f is not None)
    print(
        f"bulk: locate_many, {args.points:,} points: wall {min(runs):.2f} s best / {statistics.median(runs):.2f} s median "
        f"→ {args.points / min(runs):,.0f} points/s best, {args.points / statistics.median(runs):,.0f} median; "
        f"CPU {min(cpu):.2f} s → {args.points / min(cpu):,.0f} points per CPU-second; {located:,} inside a grid"
    )
    # The textbook call, for comparison: the tree evaluates the predicate itself.
    tree = shapely.STRtree(geoms)
    started, cpu_started = time.perf_counter(), time.process_time()
    tree.query(shapely.points(lng, lat), predicate="intersects")
    print(
        f"compare: STRtree.query(points, predicate='intersects') alone: wall {time.perf_counter() - started:.2f} s, "
        f"CPU {time.process_time() - cpu_started:.2f} s"
    )
    sample = rng.choice(args.points, 2000, replace=False)
    mismatches = sum(
        1
        for i in sample
        if (hit := locator.locate(float(lng[i]), float(lat[i]))) is None
        and found[i] is not None
        or hit is not None
        and hit.grid_id != found[i]
    )
    print(f"check: locate_many agrees with locate on {len(sample) - mismatches}/{len(sample)} sampled points")

    s_lng, s_lat = random_points(args.singles, rng)
    timings = np.empty(args.singles)
    clock = time.perf_counter_ns
    for i in range(args.singles):
        x, y = float(s_lng[i]), float(s_lat[i])
        t0 = clock()
        locator.locate(x, y)
        timings[i] = clock() - t0
    ms = timings / 1e6
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(
        f"single: {args.singles:,} calls of locate(): p50 {p50:.4f} ms, p95 {p95:.4f} ms, p99 {p99:.4f} ms, "
        f"max {ms.max():.3f} ms"
    )
    print(f"memory: RSS now {rss_mb():.0f} MB, peak {peak_mb():.0f} MB")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ok_bulk = args.points / statistics.median(runs) >= 100_000
    ok_single = p50 < 0.2
    print(
        f"targets: bulk ≥ 100,000 points/s {'met' if ok_bulk else 'MISSED'}; single < 0.2 ms {'met' if ok_single else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
