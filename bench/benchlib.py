"""Helpers shared by the benches: the bench database, the server under test, tokens, percentiles.

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
BIN = ROOT / ".venv" / "bin"
DUALGRID = str(BIN / "dualgrid")
PYTHON = str(BIN / "python")
PG = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DB = "dualgrid_bench"
HOST = "127.0.0.1"


def bench_env(db: str = DEFAULT_DB, app_path: str | None = None) -> dict[str, str]:
    """The server's environment. ``app_path``: a directory holding another copy of the ``dualgrid``
    package (e.g. a scratch copy with a candidate fix) that is imported instead of the work tree's."""
    env = dict(os.environ)
    if app_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (app_path, env.get("PYTHONPATH", "")) if p)
    env["DATABASE_URL"] = f"{PG}/{db}"
    env["DEBUG"] = "false"
    env.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    # Static files are not under test; keep the collected copy out of the shared var/.
    env.setdefault("DUALGRID_VAR_DIR", str(OUT / "var"))
    return env


def psql(sql: str, db: str = DEFAULT_DB) -> str:
    res = subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.strip()


def ensure_database(db: str = DEFAULT_DB, *, demo: bool = True, app_path: str | None = None) -> None:
    """Create the bench database if missing, migrate it (with the code under test: ``app_path`` or
    the work tree) and load the demo district (no cases)."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'", db="postgres")
    if not exists:
        subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-c", f"create database {db}"], check=True)
    env = bench_env(db, app_path)
    subprocess.run([DUALGRID, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=app_path or ROOT)
    if demo:
        loaded = psql("SELECT count(*) FROM places_adminunit WHERE code = '500100000000'", db=db)
        if loaded == "0":
            subprocess.run([DUALGRID, "demo", "--cases", "0", "--password", "demo1234"], env=env, check=True)


class Server:
    """``dualgrid serve`` in the background, in its own process group; always stopped on exit."""

    def __init__(
        self,
        port: int,
        workers: int,
        threads: int,
        db: str = DEFAULT_DB,
        log: Path | None = None,
        app_path: str | None = None,
    ):
        self.port, self.workers, self.threads, self.db = port, workers, threads, db
        self.app_path = app_path
        self.log = log or OUT / f"serve-{port}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if port_open(self.port):
            raise SystemExit(f"port {self.port} is already in use on {HOST}: stop that server first")
        OUT.mkdir(parents=True, exist_ok=True)
        logf = open(self.log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                DUALGRID,
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
            ],
            env=bench_env(self.db, self.app_path),
            cwd="/tmp" if self.app_path else ROOT,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                status, _ = request(self.port, "GET", "/api/v1/openapi.json", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"server did not answer within 60 s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def pids(self) -> list[int]:
        """The master and its workers (for CPU accounting)."""
        if self.proc is None:
            return []
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def request(
    port: int,
    method: str,
    path: str,
    body: object | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def token(port: int, username: str, password: str = "demo1234") -> str:
    status, body = request(port, "POST", "/api/v1/auth/token", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"token for {username}: HTTP {status} {body[:200]!r}")
    return json.loads(body)["token"]


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def cpu_ticks(pids: list[int]) -> float:
    """User+system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    hz = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / hz


def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    try:
        pgv = psql("SHOW server_version", db="postgres")
    except Exception:  # noqa: BLE001
        pgv = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "postgresql": pgv,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def log(msg: str) -> None:
    print(msg, flush=True)
    sys.stdout.flush()


def cpu_snapshot() -> dict[int, tuple[str, int]]:
    """pid → (command name, user+system clock ticks) for every process on the machine."""
    snap: dict[int, tuple[str, int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw.rsplit(")", 1)[1].split()
            snap[int(d.name)] = (comm, int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            continue
    return snap


def cpu_split(before: dict, after: dict, server_pids: set[int], seconds: float) -> dict:
    """Average cores used during a run by the server, PostgreSQL and everything else (other
    people's jobs on the same machine distort a benchmark: this shows how much)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {"server": 0.0, "postgres": 0.0, "other": 0.0}
    others: dict[str, float] = {}
    for pid, (comm, ticks) in after.items():
        if pid == os.getpid():
            continue
        used = ticks - before.get(pid, (comm, 0))[1]
        if used <= 0:
            continue
        key = "server" if pid in server_pids else "postgres" if comm.startswith("postgres") else "other"
        out[key] += used / hz
        if key == "other":
            others[comm] = others.get(comm, 0) + used / hz
    res: dict = {k: round(v / seconds, 2) for k, v in out.items()}
    res["other_top"] = {
        k: round(v / seconds, 2) for k, v in sorted(others.items(), key=lambda kv: -kv[1])[:3]
    }
    return res


def children_cpu() -> float:
    """CPU seconds of finished child processes (wrk) so far."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat), to compare with ours."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
