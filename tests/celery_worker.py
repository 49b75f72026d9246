"""A real `celery -A later worker` subprocess against the test database, for the tests that
need one (publishing fault tests, end-to-end journeys)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the worker, before it starts: SIGKILL when the test process dies. The worker runs
    in its own session (so a test can kill its whole group), which a killed or interrupted
    pytest would otherwise leave running: an orphan worker takes the next runs' tasks from
    the shared broker and points them at a simulator that is gone. Its pool children exit
    when their parent's pipes close."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_env(
    *, sim_base_url: str, media_root: str, application_name: str = "", **extra: str
) -> dict[str, str]:
    """The worker's environment: this test database, the simulator, the same token keys."""
    db_name = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/later")
    database_url = base.rsplit("/", 1)[0] + "/" + db_name
    if application_name:
        database_url += "?application_name=" + application_name
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "TIKTOK_AUTH_BASE_URL": sim_base_url,
        "TIKTOK_OPEN_API_BASE_URL": sim_base_url,
        "TIKTOK_BUSINESS_API_BASE_URL": f"{sim_base_url}/open_api/v1.3",
        "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
        "MEDIA_ROOT": media_root,
        **extra,
    }


class CeleryWorker:
    """`celery -A later worker --pool=prefork -c 2` in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, name: str = "test") -> None:
        self.env = env
        self.log_dir = log_dir
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = log_dir / "worker-not-started.log"

    def launch(self) -> None:
        """Start the worker and return at once (it boots while the test goes on)."""
        self.log = self.log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A", "later", "worker", "--pool=prefork", "-c", "2",
                "-n", f"{self.name}-{uuid.uuid4().hex[:8]}@%h",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
                "-l", "INFO", "-f", str(self.log),
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )  # fmt: skip

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until Celery logs that it consumes."""
        assert self.proc is not None, "launch() the worker first"
        deadline = time.monotonic() + timeout
        while " ready." not in self.log_text():
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready after {timeout:.0f}s; see {self.log}")
            time.sleep(0.2)

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no warm shutdown, no message requeue."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Warm shutdown, then SIGKILL if it does not finish within 10 s."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
            self.proc = None
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=10)
        self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
