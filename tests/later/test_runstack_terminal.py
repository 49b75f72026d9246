"""What `manage.py runstack` shows in the quick-start terminal: a ready line per service, from
this run's log (the log files are appended to across runs), and no WeasyPrint CSS chatter."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest

from later.management.commands.runstack import BEAT_READY, Command, Screen, noteworthy

BEAT_STARTING = "[2026-12-01 10:18:46,986: INFO/MainProcess] beat: Starting..."


def _command(log_dir: Path) -> tuple[Command, StringIO]:
    command = Command()
    screen = StringIO()
    command.screen = Screen(screen)
    command.verbose = False
    command.log_dir = log_dir
    command.procs = []
    command.log_starts = {}
    command.watchers = []
    command.stopping = threading.Event()
    return command, screen


def test_weasyprint_warnings_stay_in_the_log_and_its_errors_reach_the_terminal() -> None:
    css = "2026-12-01 10:21:09 WARNING weasyprint Ignored `fill: #fff` at 30:26, unknown property."
    assert not noteworthy(css)
    assert noteworthy("2026-12-01 10:21:09,300 ERROR weasyprint Failed to load image at 'x.png'")
    assert noteworthy("2026-12-01 10:21:09,400 WARNING analytics.reports Delivery failed")


def test_beat_says_it_is_ready_once_this_run_started_it(tmp_path: Path) -> None:
    # An earlier run's beat.log already holds the line: only this run's may count.
    (tmp_path / "beat.log").write_text(BEAT_STARTING + "\n", encoding="utf-8")
    command, screen = _command(tmp_path)
    beat = f"import time; time.sleep(1.5); print({BEAT_STARTING!r}, flush=True); time.sleep(30)"
    try:
        command._start("beat", [sys.executable, "-c", beat], os.environ.copy(), label="Celery beat")
        command._wait_log("Celery beat", "beat", BEAT_READY, timeout=20)
        # It waited for the new line, not the old one: the process has printed it by now.
        assert (tmp_path / "beat.log").read_text(encoding="utf-8").count(BEAT_STARTING) == 2
    finally:
        command.stopping.set()
        for _, proc in command.procs:
            proc.kill()
            proc.wait()
    shown = screen.getvalue()
    assert "· Celery beat starting (log:" in shown
    assert "✓ Celery beat ready (" in shown


def test_a_service_that_never_gets_ready_stops_the_stack(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    (tmp_path / "beat.log").write_text(BEAT_STARTING + "\n", encoding="utf-8")
    command, _ = _command(tmp_path)
    try:
        command._start(
            "beat", [sys.executable, "-c", "import time; time.sleep(30)"], os.environ.copy(),
            label="Celery beat",
        )  # fmt: skip
        with pytest.raises(CommandError, match="not ready"):
            command._wait_log("Celery beat", "beat", BEAT_READY, timeout=1)
    finally:
        command.stopping.set()
        for _, proc in command.procs:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("database_url", "advice"),
    [
        (
            "postgres://postgres@127.0.0.1:5432/later_runstack_absent",
            "createdb later_runstack_absent",
        ),
        ("postgres://postgres@127.0.0.1:1/later", "127.0.0.1:1 (DATABASE_URL) cannot be reached"),
    ],
)
def test_a_database_that_cannot_be_reached_is_one_line_saying_what_to_do(
    database_url: str, advice: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "manage.py", "runstack", "--no-simulator", "--no-demo-data"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    shown = run.stdout + run.stderr
    assert run.returncode == 1, shown
    assert "Traceback" not in shown
    assert advice in shown
    assert "unset DATABASE_URL for the SQLite quick start" in shown
