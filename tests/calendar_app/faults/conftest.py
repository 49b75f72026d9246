"""Real Celery workers (subprocesses) against the test database, a Redis broker and one
threaded simulator shared by the module, for the publishing fault tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.calendar_app.publishing_factories import Sim, flush_rate_limits
from tiktok_client.simulator.app import create_app
from tiktok_client.simulator.server import run_in_thread

REPO = Path(__file__).resolve().parents[3]
FAST_SIM: dict[str, Any] = {"min_processing_seconds": 0.2, "moderation_delay": 0.0}


class Worker:
    """`celery -A later worker --pool=prefork -c 2` in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Path | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.log = self.log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "later",
                "worker",
                "--pool=prefork",
                "-c",
                "2",
                "-n",
                f"pubfault-{uuid.uuid4().hex[:8]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-f",
                str(self.log),
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}")
            if self.log.exists() and " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no warm shutdown, no message requeue."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    app = create_app(**FAST_SIM)
    base_url, stop = run_in_thread(port=0, app=app)
    yield Sim(app=app, base_url=base_url)
    stop()


@pytest.fixture
def fault_sim(module_sim: Sim, settings: Any, tmp_path_factory: Any) -> Sim:
    module_sim.state.reset()
    for key, value in FAST_SIM.items():
        setattr(module_sim.state.settings, key, value)
    flush_rate_limits()
    base_url = module_sim.base_url
    settings.TIKTOK_AUTH_BASE_URL = settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = f"{base_url}/open_api/v1.3"
    settings.TIKTOK_TIMEOUT_SECONDS = 2.0
    settings.MEDIA_ROOT = str(_media_root(tmp_path_factory))
    return module_sim


_MEDIA: dict[str, Path] = {}


def _media_root(tmp_path_factory: Any) -> Path:
    if "root" not in _MEDIA:
        _MEDIA["root"] = tmp_path_factory.mktemp("pubfault-media")
    return _MEDIA["root"]


WORKER_APP = "later-fault-worker"


@pytest.fixture(scope="module")
def worker(
    module_sim: Sim, tmp_path_factory: Any, django_db_setup: Any, django_db_blocker: Any
) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/later")
    env = {
        **os.environ,
        # Named, so a test can drop the worker's connections and nobody else's.
        "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + db_name + "?application_name=" + WORKER_APP,
        "CONN_MAX_AGE": "0",
        "TIKTOK_AUTH_BASE_URL": module_sim.base_url,
        "TIKTOK_OPEN_API_BASE_URL": module_sim.base_url,
        "TIKTOK_BUSINESS_API_BASE_URL": f"{module_sim.base_url}/open_api/v1.3",
        "TIKTOK_TIMEOUT_SECONDS": "2",
        "TOKEN_ENCRYPTION_KEYS": ",".join(django_settings.TOKEN_ENCRYPTION_KEYS),
        "MEDIA_ROOT": str(_media_root(tmp_path_factory)),
        "PUBLISHING_POLL_FIRST_INTERVAL": "0.2",
        "PUBLISHING_POLL_MAX_INTERVAL": "0.5",
        "PUBLISHING_RETRY_BASE_SECONDS": "0.5",
    }
    w = Worker(env, tmp_path_factory.mktemp("pubfault-logs"))
    w.start()
    yield w
    w.kill()
