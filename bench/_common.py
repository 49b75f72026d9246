"""Shared plumbing for benchmarks: a throwaway PostgreSQL database, Django setup, result lines.

Every benchmark prints machine-readable lines `BENCH {json}` (collected by bench/run_all.py into
one table) next to its human-readable output. A figure is always printed beside its ceiling or
baseline measured in the same run.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def fresh_database(name: str) -> str:
    """Drop and create database `name`; return its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, **extra_env: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "later.settings")
    os.environ.update(extra_env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(
    *, name: str, value: float, unit: str, baseline_name: str, baseline_value: float, note: str = ""
) -> None:
    """Print one result line: the figure, its ceiling/baseline from the same run, and the ratio."""
    ratio = value / baseline_value if baseline_value else float("nan")
    print(
        "BENCH "
        + json.dumps(
            {
                "name": name,
                "value": round(value, 3),
                "unit": unit,
                "baseline": baseline_name,
                "baseline_value": round(baseline_value, 3),
                "ratio": round(ratio, 3),
                "note": note,
            }
        ),
        flush=True,
    )


class Beat:
    """Plays Celery beat for a benchmark's driver: runs each named entry of
    settings.CELERY_BEAT_SCHEDULE when that entry's own schedule says it is due, as beat does
    (the dispatcher on the clock's whole seconds), instead of on a cadence of its own."""

    def __init__(self, calls: dict[str, Callable[[], object]]) -> None:
        from celery.schedules import BaseSchedule, maybe_schedule
        from django.conf import settings

        never = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        self._entries: list[tuple[BaseSchedule, Callable[[], object]]] = []
        for name, call in calls.items():
            schedule = maybe_schedule(settings.CELERY_BEAT_SCHEDULE[name]["schedule"])  # type: ignore[arg-type]
            assert isinstance(schedule, BaseSchedule), schedule
            self._entries.append((schedule, call))
        self._last = [never] * len(self._entries)

    @classmethod
    def publishing(cls) -> Beat:
        """The publishing pipeline's entries: the dispatcher and the sweeper, as beat runs them."""
        from calendar_app import tasks
        from calendar_app.publishing import dispatch

        return cls(
            {
                "dispatch-due-posts": tasks.dispatch_due_posts,  # what beat's tasks do
                "sweep-stale-publishing": dispatch.posts_sweep_stale,
            }
        )

    def tick(self) -> float:
        """Run what is due; return the seconds until the next entry is due."""
        wait = float("inf")
        for n, (schedule, call) in enumerate(self._entries):
            due, next_in = schedule.is_due(self._last[n])
            if due:
                self._last[n] = schedule.now()
                call()
            wait = min(wait, float(next_in))
        return wait


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def load_average() -> str:
    """The 1-minute load average, to print beside every figure (the machine may be shared)."""
    return f"load {os.getloadavg()[0]:.1f}"


def core_speed() -> str:
    """How fast one core of this machine is right now: the CPU time of a fixed piece of pure
    Python (building and changing small dicts, as row handling does). A shared host's cores
    slow down and speed up within the hour; a figure bound by CPU moves with this, so print
    it beside such figures."""
    started = time.thread_time()
    rows = [(n, "scheduled", f"post {n}") for n in range(20_000)]
    for _ in range(10):
        total = 0
        for number, status, caption in rows:
            copy = {"id": number, "status": status, "caption": caption}
            copy["status"] = "published" if number % 2 else status
            total += len(caption)
    return f"core speed {1000 * (time.thread_time() - started):.0f} ms for the fixed workload"


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes and all their descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        todo.extend(children.get(pid, []))
    return total


def postgres_backend_pids(database: str) -> list[int]:
    """The server processes serving `database` right now (PostgreSQL on this machine)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def celery_worker(
    env: dict[str, str],
    *,
    concurrency: int,
    queues: str = "",
    name: str = "",
    pool: str = "prefork",
    nice: int = 0,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """One `celery -A later worker` in its own process group (kill it with os.killpg).

    `nice`: a lower CPU weight, as docker-compose.yml gives the background pool. The worker
    runs in its own session, and Linux's autogroup scheduling shares the CPU between sessions
    before it looks at any process's nice value: a nice 10 worker in its own session took a
    fair half of both cores from the publishing pool. So the nice goes on the session's
    autogroup too (`/proc/<pid>/autogroup`), which is what a cgroup's CPU weight does."""
    cmd = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "later",
        "worker",
        f"--pool={pool}",
        "-c",
        str(concurrency),
        "--without-mingle",
        "--without-gossip",
        "-l",
        "INFO" if log else "WARNING",
    ]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    if queues:
        cmd += ["-Q", queues]
    if name:
        cmd += ["-n", f"{name}@%h"]
    worker = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab") if log else subprocess.DEVNULL,
        start_new_session=True,
    )
    if nice:
        _autogroup_nice(worker.pid, nice)
    return worker


def _autogroup_nice(pid: int, nice: int) -> None:
    autogroup = Path(f"/proc/{pid}/autogroup")
    if not autogroup.exists():  # no autogroup scheduling here: the process nice is enough
        return
    try:
        autogroup.write_text(str(nice))
    except OSError as exc:
        print(f"could not lower the CPU weight of the worker's session: {exc}", flush=True)
