"""Run the whole product in one terminal: web, Celery worker, Celery beat and, unless real
TikTok hosts are configured, the local TikTok simulator. Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


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

    def handle(self, *args: Any, **opts: Any) -> None:
        python = sys.executable
        env = os.environ.copy()
        use_sim = not opts["no_simulator"] and settings.TIKTOK_OPEN_API_BASE_URL.startswith(
            "https://open.tiktokapis.com"
        )
        procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        site = f"http://{opts['host']}:{opts['port']}"
        env.setdefault("SITE_URL", site)
        env.setdefault("TIKTOK_REDIRECT_URI", f"{site}/connect/tiktok/callback/")
        if use_sim:
            sim_url = f"http://127.0.0.1:{opts['simulator_port']}"
            env.update(
                TIKTOK_AUTH_BASE_URL=sim_url,
                TIKTOK_OPEN_API_BASE_URL=sim_url,
                TIKTOK_BUSINESS_API_BASE_URL=f"{sim_url}/open_api/v1.3",
            )
            procs.append(
                (
                    "simulator",
                    subprocess.Popen(
                        [
                            python,
                            "-m",
                            "tiktok_client.simulator",
                            "--port",
                            str(opts["simulator_port"]),
                            "--redirect-uri",
                            env["TIKTOK_REDIRECT_URI"],
                        ],
                        env=env,
                    ),
                )
            )
            time.sleep(0.5)
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # SQLite allows one writer at a time, so the embedded mode runs a single-process worker.
        pool = ["--pool=solo"] if sqlite else ["--pool=prefork", "--concurrency=4"]
        (settings.VAR_DIR / "broker").mkdir(parents=True, exist_ok=True)
        (settings.VAR_DIR / "broker-processed").mkdir(parents=True, exist_ok=True)
        (settings.VAR_DIR / "broker-control").mkdir(parents=True, exist_ok=True)
        procs.append(
            (
                "web",
                subprocess.Popen(
                    [
                        python,
                        "manage.py",
                        "runserver",
                        f"{opts['host']}:{opts['port']}",
                        "--noreload",
                    ],
                    env=env,
                ),
            )
        )
        procs.append(
            (
                "worker",
                subprocess.Popen(
                    [python, "-m", "celery", "-A", "later", "worker", "-l", "INFO", *pool], env=env
                ),
            )
        )
        procs.append(
            (
                "beat",
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "later",
                        "beat",
                        "-l",
                        "INFO",
                        "-s",
                        str(settings.VAR_DIR / "celerybeat-schedule"),
                    ],
                    env=env,
                ),
            )
        )
        # One-shot: fills the demo workspaces from the simulator while the stack comes up.
        demo = None
        if use_sim and not opts["no_demo_data"]:
            demo = subprocess.Popen([python, "manage.py", "demo_data"], env=env)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLater for TikTok is starting at {site}/ "
                + (f"(TikTok simulator at {env['TIKTOK_OPEN_API_BASE_URL']})" if use_sim else "")
                + "\nSign in as demo@example.com / later-demo (created by `manage.py demo_setup`)."
                + "\nPress Ctrl-C to stop.\n"
            )
        )
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            if demo is not None and demo.poll() is None:
                demo.terminate()
            for _, proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for _, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
