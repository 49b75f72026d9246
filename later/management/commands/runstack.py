"""Run the whole product in one terminal: web, Celery worker, Celery beat and, unless real
TikTok hosts are configured, the local TikTok simulator. Ctrl-C stops everything.

The terminal shows what a person needs (each service starting, the URL and demo credentials,
progress of the database and the demo fill, warnings and errors); every process writes its
full output to a file under var/log/, named on screen. `--verbose` streams everything instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import IO, Any

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from later.management.commands.demo_setup import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_PASSWORD,
    DEMO_EMAIL,
    DEMO_PASSWORD,
)

# A line that a person running the stack should see even when it is otherwise quiet.
NOTEWORTHY = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|^\w[\w.]*(Error|Exception): ")
# Chatter that is noisy but harmless in development. WeasyPrint warns about each CSS property
# of the report stylesheet it does not lay out (SVG styling, screen media queries); its
# warnings stay in the log file, its errors still reach the terminal.
IGNORED = re.compile(
    r"is not recommended|running with superuser privileges|DEBUG mode|No hostname was supplied"
    r"|This is a development server|\bWARNING weasyprint\b"
)
# Routine log lines (Django's and Celery's formats), kept in the log files only.
ROUTINE = re.compile(r"^\S+ \S+ (DEBUG|INFO) |^\[[^]]*: (DEBUG|INFO)/")
# What a Celery worker and Celery beat log once they are up.
WORKER_READY = re.compile(r"\bready\.?\s*$")
BEAT_READY = re.compile(r"\bbeat: Starting\.\.\.")


def noteworthy(line: str) -> bool:
    """A service's log line that the terminal shows (without --verbose)."""
    return bool(NOTEWORTHY.search(line)) and not IGNORED.search(line)


class Screen:
    """The terminal: whole lines, and one progress line rewritten in place when it is a TTY."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.live = out.isatty()
        self.lock = threading.Lock()
        self.progress_shown = False

    def line(self, text: str) -> None:
        with self.lock, contextlib.suppress(OSError):  # a closed terminal must not stop the stack
            if self.progress_shown:
                self.out.write("\r\033[K")
                self.progress_shown = False
            self.out.write(text + "\n")
            self.out.flush()

    def progress(self, text: str) -> None:
        if not self.live:
            return
        with self.lock, contextlib.suppress(OSError):
            self.out.write("\r\033[K  " + text)
            self.out.flush()
            self.progress_shown = True


class _Tee(StringIO):
    """call_command's stdout: everything to the log, a callback per line for progress."""

    def __init__(self, log: IO[str], on_line: Callable[[str], None]) -> None:
        super().__init__()
        self.log = log
        self.on_line = on_line

    def write(self, text: str) -> int:
        self.log.write(text)
        for line in text.splitlines():
            if line.strip():
                self.on_line(line)
        return len(text)


SIM_MEDIA_BASE = "https://media.later.test/public-media/"
SIM_STATE_FILE = "simulator-state.json"


def simulator_command(
    python: str,
    *,
    port: int,
    site: str,
    redirect_uri: str,
    business_redirect_uri: str,
    state_file: Path,
) -> list[str]:
    """The simulator as the quick start runs it: this site's two OAuth callbacks (TikTok
    matches redirect URIs exactly, port included), its public media
    for PULL_FROM_URL, and each TikTok app's webhooks sent to this site's endpoint for that app
    (comment.update to the Business one, post.publish.* and authorization.removed to the Login
    Kit one), as the README asks of a real installation. Its users, tokens, publishes, videos
    and comments are kept in ``state_file`` across restarts, as TikTok keeps them while the
    product is stopped."""
    return [
        python,
        "-m",
        "tiktok_client.simulator",
        "--port",
        str(port),
        "--redirect-uri",
        redirect_uri,
        "--redirect-uri",
        business_redirect_uri,
        "--pull-resolve",
        f"{SIM_MEDIA_BASE}={site}/public-media/",
        "--webhook-url",
        site + reverse("accounts:tiktok_webhook"),
        "--business-webhook-url",
        site + reverse("accounts:tiktok_business_webhook"),
        "--state-file",
        str(state_file),
    ]


class Command(BaseCommand):
    help = "Start web + worker + beat (+ TikTok simulator) and stop them together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8765)
        parser.add_argument(
            "--no-demo-data",
            action="store_true",
            help="Do not connect simulator creators and fill the demo workspaces.",
        )
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="Do not start the TikTok simulator (TIKTOK_* URLs point at real TikTok).",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not migrate or create the demo user."
        )
        parser.add_argument(
            "--verbose", action="store_true", help="Stream every service's full output."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        self.screen = Screen(sys.stdout)
        self.verbose: bool = opts["verbose"]
        self.log_dir = Path(settings.VAR_DIR) / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        # Where each service's log stood when it started: a ready line is this run's only.
        self.log_starts: dict[str, int] = {}
        self.watchers: list[threading.Thread] = []
        self.stopping = threading.Event()
        started = time.monotonic()
        self.screen.line(f"Later for TikTok is starting. Full logs: {self._rel(self.log_dir)}/")

        if not opts["no_migrate"]:
            self._check_database()
            self._migrate()
            self._demo_user()

        python = sys.executable
        env = os.environ.copy()
        # Children log plainly; the terminal is this command's.
        env.setdefault("PYTHONUNBUFFERED", "1")
        use_sim = not opts["no_simulator"] and settings.TIKTOK_OPEN_API_BASE_URL.startswith(
            "https://open.tiktokapis.com"
        )
        site = f"http://{opts['host']}:{opts['port']}"
        env.setdefault("SITE_URL", site)
        env.setdefault("TIKTOK_REDIRECT_URI", f"{site}/connect/tiktok/callback/")
        env.setdefault("TIKTOK_BUSINESS_REDIRECT_URI", f"{site}/connect/tiktok/business/callback/")

        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self.stopping.set())
        demo: subprocess.Popen[bytes] | None = None
        try:
            if use_sim:
                sim_url = f"http://127.0.0.1:{opts['simulator_port']}"
                env.update(
                    TIKTOK_AUTH_BASE_URL=sim_url,
                    TIKTOK_OPEN_API_BASE_URL=sim_url,
                    TIKTOK_BUSINESS_API_BASE_URL=f"{sim_url}/open_api/v1.3",
                )
                # Photo posts are pulled by TikTok from an https prefix verified with it; the
                # simulator's verified prefix stands for this site's /public-media/ links.
                env.setdefault("MEDIA_PUBLIC_BASE_URL", SIM_MEDIA_BASE)
                self._start(
                    "simulator",
                    simulator_command(
                        python,
                        port=opts["simulator_port"],
                        site=site,
                        redirect_uri=env["TIKTOK_REDIRECT_URI"],
                        business_redirect_uri=env["TIKTOK_BUSINESS_REDIRECT_URI"],
                        state_file=Path(settings.VAR_DIR) / SIM_STATE_FILE,
                    ),
                    env,
                    label="TikTok simulator",
                )
                self._wait_http("TikTok simulator", f"{sim_url}/_sim/health", at=sim_url)
            sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
            # SQLite allows one writer at a time, so the embedded mode runs a single-process
            # worker on every queue. On PostgreSQL publishing gets its own pool, as in production
            # (docker-compose.yml): background work never holds a publishing slot.
            prefork = ["--pool=prefork"]
            pools: list[tuple[str, str, list[str]]] = (
                [("worker", "Celery worker", ["--pool=solo"])]
                if sqlite
                else [
                    (
                        "worker-publishing",
                        "Celery publishing pool",
                        [*prefork, "-c", "4", "-Q", "publishing", "-n", "publishing@%h"],
                    ),
                    (
                        "worker",
                        "Celery background pool",
                        [
                            *prefork,
                            "-c",
                            "2",
                            "-Q",
                            "default,sync,analytics",
                            "-n",
                            "background@%h",
                        ],
                    ),
                ]
            )
            for folder in ("broker", "broker-processed", "broker-control"):
                (Path(settings.VAR_DIR) / folder).mkdir(parents=True, exist_ok=True)
            self._start(
                "web",
                [python, "manage.py", "runserver", f"{opts['host']}:{opts['port']}", "--noreload"],
                env,
                label="Web server",
            )
            for name, label, pool in pools:
                self._start(
                    name,
                    [python, "-m", "celery", "-A", "later", "worker", "-l", "INFO", *pool],
                    env,
                    label=label,
                )
            beat_schedule = str(Path(settings.VAR_DIR) / "celerybeat-schedule")
            beat_cmd = [python, "-m", "celery", "-A", "later", "beat", "-l", "INFO"]
            beat_cmd += ["-s", beat_schedule]
            # With the demo, beat starts once the demo is filled: a simulator that started fresh
            # (first run, or its state file was unusable) knows none of the tokens stored by an
            # earlier run until the demo connects the accounts again, and beat's first syncs and
            # refreshes would only be refused.
            beat_waits = use_sim and not opts["no_demo_data"]
            if not beat_waits:
                self._start("beat", beat_cmd, env, label="Celery beat")
            self._wait_http("Web server", f"{site}/healthz/", at=site)
            for name, label, _ in pools:
                self._wait_log(label, name, WORKER_READY)
            if not beat_waits:
                self._wait_log("Celery beat", "beat", BEAT_READY)

            self.screen.line("")
            self.screen.line(f"  Later for TikTok is ready: {site}/")
            self.screen.line(f"  Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
            self.screen.line(
                f"  Django admin: {site}/admin/ (staff user {DEMO_ADMIN_EMAIL} / "
                f"{DEMO_ADMIN_PASSWORD}; development only)"
            )
            self.screen.line("  E-mail is printed in var/log/web.log and worker.log (EMAIL_URL)")
            self.screen.line(
                f"  (up in {time.monotonic() - started:.0f}s · Ctrl-C stops everything)"
            )
            self.screen.line("")

            if beat_waits:
                demo = self._demo_fill(python, env)

            while not self.stopping.is_set():
                if beat_waits and demo is not None and demo.poll() is not None:
                    beat_waits = False
                    self._start("beat", beat_cmd, env, label="Celery beat")
                    self._wait_log("Celery beat", "beat", BEAT_READY)
                for name, proc in self.procs:
                    if proc.poll() is not None:
                        self.screen.line(
                            f"  ✗ {name} exited with {proc.returncode}; see "
                            f"{self._rel(self._log(name))}. Stopping."
                        )
                        self.stopping.set()
                        break
                self.stopping.wait(0.5)
        except CommandError as exc:
            self.screen.line(f"  ✗ {exc}")
            raise SystemExit(1) from exc
        finally:
            self.stopping.set()
            self.screen.line("Stopping…")
            if demo is not None and demo.poll() is None:
                demo.terminate()
            for _, proc in self.procs:
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for _, proc in self.procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.screen.line("Stopped.")

    # --- steps ------------------------------------------------------------------------------

    def _check_database(self) -> None:
        """One line saying what to do, not a traceback, when DATABASE_URL's database cannot be
        reached: the quick start's most common first stumble."""
        from django.db import OperationalError, connection

        try:
            connection.ensure_connection()
        except OperationalError as exc:
            db = settings.DATABASES["default"]
            if db["ENGINE"].endswith("sqlite3"):
                advice = f"SQLite database {db['NAME']} cannot be opened: {exc}"
            elif "does not exist" in str(exc):
                advice = (
                    f"PostgreSQL database {db['NAME']!r} (DATABASE_URL) does not exist: create "
                    f"it with `createdb {db['NAME']}`, or unset DATABASE_URL for the SQLite "
                    "quick start."
                )
            else:
                where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
                advice = (
                    f"PostgreSQL at {where} (DATABASE_URL) cannot be reached; start it, or "
                    "unset DATABASE_URL for the SQLite quick start."
                )
            self.screen.line(f"  ✗ {advice}")
            raise SystemExit(1) from None

    def _migrate(self) -> None:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        log = self._log("migrate")
        executor = MigrationExecutor(connection)
        total = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
        done = 0
        t0 = time.monotonic()

        def on_line(line: str) -> None:
            nonlocal done
            if line.lstrip().startswith("Applying "):
                done += 1
                self.screen.progress(f"Migrating the database… {done}/{total}")

        with log.open("a", encoding="utf-8") as out:
            call_command("migrate", interactive=False, stdout=_Tee(out, on_line), no_color=True)
        what = f"{total} migrations applied" if total else "already up to date"
        self.screen.line(
            f"  ✓ Database ready ({what}, {time.monotonic() - t0:.0f}s; log: {self._rel(log)})"
        )

    def _demo_user(self) -> None:
        with self._log("migrate").open("a", encoding="utf-8") as out:
            call_command("demo_setup", stdout=out)
        self.screen.line("  ✓ Demo user and workspaces ready")

    def _start(self, name: str, cmd: list[str], env: dict[str, str], *, label: str) -> None:
        log = self._log(name)
        self.log_starts[name] = log.stat().st_size if log.exists() else 0
        out = log.open("ab")
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.procs.append((name, proc))
        self.screen.line(f"  · {label} starting (log: {self._rel(log)})")
        watcher = threading.Thread(target=self._follow, args=(name, log), daemon=True)
        watcher.start()
        self.watchers.append(watcher)

    def _follow(self, name: str, log: Path) -> None:
        """Echo a service's warnings and errors (everything with --verbose) as they appear."""
        seen: set[str] = set()
        with log.open("rb") as fh:
            fh.seek(self.log_starts.get(name, 0))
            while not self.stopping.is_set():
                line = fh.readline()
                if not line:
                    time.sleep(0.3)
                    continue
                text = line.decode("utf-8", "replace").rstrip()
                if self.verbose:
                    self.screen.line(f"{name:>9} | {text}")
                elif noteworthy(text):
                    key = re.sub(r"\d+", "#", text)[-160:]
                    if key in seen:
                        continue
                    seen.add(key)
                    self.screen.line(f"  ! {name}: {text[-240:]}")

    def _wait_http(self, label: str, url: str, *, at: str, timeout: float = 60) -> None:
        t0 = time.monotonic()
        while not self.stopping.is_set():
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    self.screen.line(f"  ✓ {label} ready at {at} ({time.monotonic() - t0:.0f}s)")
                    return
            except httpx.HTTPError:
                pass
            self._check_alive()
            if time.monotonic() - t0 > timeout:
                raise CommandError(f"{label} did not answer at {url} within {timeout:.0f}s.")
            self.screen.progress(f"Waiting for the {label.lower()}… {time.monotonic() - t0:.0f}s")
            time.sleep(0.3)

    def _wait_log(
        self, label: str, name: str, pattern: re.Pattern[str], timeout: float = 90
    ) -> None:
        t0 = time.monotonic()
        log = self._log(name)
        while not self.stopping.is_set():
            with log.open("rb") as fh:
                fh.seek(self.log_starts.get(name, 0))
                lines = fh.read().decode("utf-8", "replace").splitlines()
            if any(pattern.search(line) for line in lines):
                self.screen.line(f"  ✓ {label} ready ({time.monotonic() - t0:.0f}s)")
                return
            self._check_alive()
            if time.monotonic() - t0 > timeout:
                raise CommandError(f"{label} is not ready after {timeout:.0f}s; see {log}.")
            self.screen.progress(f"Waiting for the {label.lower()}… {time.monotonic() - t0:.0f}s")
            time.sleep(0.3)

    def _check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise CommandError(
                    f"{name} exited with {proc.returncode}; see {self._rel(self._log(name))}."
                )

    def _demo_fill(self, python: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Fill the demo workspaces in the background; its progress lines reach the screen."""
        log = self._log("demo-data")
        proc = subprocess.Popen(
            [python, "manage.py", "demo_data"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.screen.line(f"  · Filling the demo workspaces (log: {self._rel(log)})")
        t0 = time.monotonic()

        def relay() -> None:
            assert proc.stdout is not None
            in_traceback = False
            with log.open("ab") as out:
                for raw in proc.stdout:
                    out.write(raw)
                    out.flush()
                    text = raw.decode("utf-8", "replace").rstrip()
                    # A traceback stays in the log; its last line says what went wrong.
                    in_traceback = in_traceback or text.startswith("Traceback")
                    if in_traceback and not text.startswith(" ") and ":" in text:
                        self.screen.line(f"  ! demo: {text.strip()[:200]}")
                    elif text.strip() and not in_traceback and not ROUTINE.search(text):
                        self.screen.line(f"    demo: {text.strip()[:160]}")
            code = proc.wait()
            if code == 0:
                self.screen.line(f"  ✓ Demo data filled ({time.monotonic() - t0:.0f}s)")
            elif not self.stopping.is_set():
                self.screen.line(f"  ! Demo data stopped with exit {code}; see {self._rel(log)}")

        threading.Thread(target=relay, daemon=True).start()
        return proc

    # --- helpers ----------------------------------------------------------------------------

    def _log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
