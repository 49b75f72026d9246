"""Shared plumbing for benchmarks: a throwaway PostgreSQL database, Django setup, result lines.

Every benchmark prints machine-readable lines `BENCH {json}` (collected by bench/run_all.py into
one table) next to its human-readable output. A figure is always printed beside its ceiling or
baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
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


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]
