"""Bench: import 100,000 residents (with households and tags) from one Excel file, end to end.

    .venv/bin/python bench/import_residents.py [--rows 100000] [--db dualgrid_import_bench]

1. Makes sure the PostgreSQL database exists, is migrated and holds the demo district (no cases),
   and empties its resident register (this database only).
2. Writes ``bench/out/residents-<rows>.xlsx`` the way Excel and WPS write workbooks (strings in the
   shared-strings table): valid ID numbers (GB 11643), phones, households of 1–5 people, care tags
   on about one resident in seven, spread over the demo district's grids.
3. In a fresh process (so its peak memory is the import's own): the upload check
   (``importjob_create``: really an .xlsx, the headers, counting rows), then the job
   (``importjob_process``: validate every row, then apply in one transaction), then the same file
   again (idempotent: everything 未变). Prints and saves timings and peak RSS (VmHWM).

Targets (issue #3): < 60 s and < 1 GB for 100,000 residents.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DUALGRID = str(ROOT / ".venv" / "bin" / "dualgrid")
PG = "postgres://postgres@127.0.0.1:5432"
HEADERS = [
    "网格编码",
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "手机号",
    "民族",
    "现住址",
    "户地址",
    "门牌号",
    "是否户主",
    "人员标签",
    "关注程度",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "秀英桂英秀兰玉兰桂兰秀珍凤英玉珍玉梅凤兰建华建国建军志强志明海燕丽华晓燕俊杰浩然子涵雨轩欣怡梓萱一诺思远文博"
CARE_TAGS = [
    "空巢(独居)老人",
    "留守儿童",
    "困境儿童",
    "行动不便人员",
    "孕产妇",
    "慢性病基础病患者",
    "残疾人",
    "低保对象",
    "特困人员",
]


def env(db: str) -> dict[str, str]:
    result = dict(os.environ)
    result.update(
        {"DATABASE_URL": f"{PG}/{db}", "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "dualgrid.settings"}
    )
    result.setdefault("DUALGRID_VAR_DIR", str(OUT / "var"))
    return result


def psql(sql: str, db: str = "postgres") -> str:
    cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def prepare_database(db: str) -> None:
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
        psql(f"CREATE DATABASE {db}")
    subprocess.run([DUALGRID, "migrate", "--noinput", "-v0"], env=env(db), check=True)
    if psql("SELECT count(*) FROM places_adminunit WHERE code = '500100000000'", db) == "0":
        subprocess.run([DUALGRID, "demo", "--cases", "0"], env=env(db), check=True, stdout=subprocess.DEVNULL)
    # Only the bench database's register is emptied, so every run starts from the same state.
    psql(
        "TRUNCATE people_residenttag, people_visit, people_resident, people_household RESTART IDENTITY CASCADE",
        db,
    )


# --- the workbook ---------------------------------------------------------------------------------


def make_id(area: str, birth: date, sequence: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def generate_rows(count: int, grid_codes: list[str], seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    used: set[str] = set()
    rows: list[list[str]] = []
    house = 0
    while len(rows) < count:
        house += 1
        grid = rng.choice(grid_codes)
        building = f"{rng.randint(1, 40)}栋{rng.randint(1, 6)}单元"
        number = f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}"
        surname = rng.choice(SURNAMES)
        for member in range(min(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)), count - len(rows))):
            while True:
                birth = date(1935, 1, 1) + timedelta(days=rng.randint(0, 32000))
                sequence = rng.randint(0, 999)
                id_number = make_id(f"5001{rng.randint(1, 55):02d}", birth, sequence)
                if id_number not in used:
                    used.add(id_number)
                    break
            name = surname + rng.choice(GIVEN[::2]) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            tag = rng.choice(CARE_TAGS) if rng.random() < 0.14 else ""
            rows.append(
                [
                    grid,
                    name,
                    id_number,
                    "男" if sequence % 2 else "女",
                    birth.isoformat(),
                    f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}" if rng.random() < 0.8 else "",
                    "汉族" if rng.random() < 0.95 else "土家族",
                    f"{building}{number}室",
                    f"第{house % 97 + 1}组团{building}",
                    number,
                    "是" if member == 0 else "否",
                    tag,
                    "中等" if tag and rng.random() < 0.2 else "",
                ]
            )
    return rows


def write_xlsx(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    """A workbook with a shared-strings table, as Excel and WPS save them (openpyxl writes inline strings)."""
    strings: dict[str, int] = {}

    def ref(value: str) -> int:
        if value not in strings:
            strings[value] = len(strings)
        return strings[value]

    def letter(index: int) -> str:
        return chr(65 + index)

    sheet = io.StringIO()
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns}>')
    sheet.write(f'<dimension ref="A1:{letter(len(headers) - 1)}{len(rows) + 1}"/><sheetData>')
    for r, values in enumerate([headers, *rows], start=1):
        cells = "".join(
            f'<c r="{letter(c)}{r}" t="s"><v>{ref(v)}</v></c>' for c, v in enumerate(values) if v != ""
        )
        sheet.write(f'<row r="{r}">{cells}</row>')
    sheet.write("</sheetData></worksheet>")
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="实有人口" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet.getvalue())


# --- the import, in its own process -----------------------------------------------------------------


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_import(path: Path) -> dict[str, object]:
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dualgrid.accounts.models import User
    from dualgrid.exchange import services
    from dualgrid.exchange.models import ImportJob

    applied: dict[str, float] = {}
    real_apply = services.residents_apply

    def timed_apply(**kwargs: object) -> None:
        started = time.perf_counter()
        real_apply(**kwargs)  # type: ignore[arg-type]
        applied["seconds"] = time.perf_counter() - started

    services.residents_apply = timed_apply  # type: ignore[assignment]
    admin = User.objects.get(username="admin")
    results: dict[str, object] = {}
    for label in ("first", "again"):
        started = time.perf_counter()
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        job = services.importjob_create(user=admin, kind="residents", upload=upload)
        checked = time.perf_counter()
        services.importjob_process(job_id=job.pk)
        done = time.perf_counter()
        job = ImportJob.objects.get(pk=job.pk)
        results[label] = {
            "status": job.status,
            "message": job.message,
            "rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "upload_check_s": round(checked - started, 1),
            "job_s": round(done - checked, 1),
            "apply_s": round(applied.pop("seconds", 0.0), 1),
            "total_s": round(done - started, 1),
        }
    results["peak_rss_mb"] = round(peak_rss_mb())
    return results


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram_gib": f"{mem_kb / 1048576:.0f}",
        "python": platform.python_version(),
        "postgres": psql("SHOW server_version"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="dualgrid_import_bench")
    parser.add_argument("--import-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        print(json.dumps(run_import(args.import_only), ensure_ascii=False))
        return

    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    prepare_database(args.db)
    grid_codes = psql("SELECT code FROM places_grid WHERE active ORDER BY code", args.db).split()
    rows = generate_rows(args.rows, grid_codes)
    path = OUT / f"residents-{args.rows}.xlsx"
    write_xlsx(path, HEADERS, rows)
    print(
        f"prepared {len(rows)} rows over {len(grid_codes)} grids in {time.perf_counter() - started:.0f} s: {path} ({path.stat().st_size / 1048576:.1f} MB)"
    )
    load_before = os.getloadavg()
    child = subprocess.run(
        [PYTHON, __file__, "--db", args.db, "--import-only", str(path)],
        env=env(args.db),
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        sys.exit(child.stderr)
    results = json.loads(child.stdout.strip().splitlines()[-1])
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "rows": args.rows,
        "file_mb": round(path.stat().st_size / 1048576, 1),
        "database": f"PostgreSQL {args.db}",
        "machine": machine(),
        # Other people's work shares this 2-core machine: the load average says how much of it we had.
        "load_avg_1m": {"before": round(load_before[0], 1), "after": round(os.getloadavg()[0], 1)},
        **results,
    }
    (OUT / "import_residents.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    first = results["first"]
    ok = first["status"] == "done" and first["total_s"] < 60 and results["peak_rss_mb"] < 1024
    print("target (< 60 s, < 1 GB):", "met" if ok else "MISSED")


if __name__ == "__main__":
    main()
