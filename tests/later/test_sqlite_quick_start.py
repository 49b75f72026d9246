"""The SQLite quick start survives web, worker and beat writing at once (no "database is
locked"): WAL, IMMEDIATE transactions and a busy timeout, as configured in settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WRITER = """
import django, sys
django.setup()
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, who TEXT)")
    mode = c.execute("PRAGMA journal_mode").fetchone()[0]
assert mode == "wal", mode
for n in range(150):
    # Read, then write, in one transaction: the pattern that deadlocks deferred transactions.
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT count(*) FROM hits").fetchone()
        c.execute("INSERT INTO hits (who) VALUES (%s)", [sys.argv[1]])
print("ok")
"""


def test_three_processes_write_one_sqlite_file_without_locking_errors(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quick.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "later.settings",
    }
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, who],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("web", "worker", "beat")
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert out.strip() == "ok"
    import sqlite3

    with sqlite3.connect(tmp_path / "quick.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM hits").fetchone()[0] == 450
