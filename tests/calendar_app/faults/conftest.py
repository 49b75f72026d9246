"""Real Celery workers (subprocesses) against the test database, a Redis broker and one
threaded simulator shared by the module, for the publishing fault tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.calendar_app.publishing_factories import Sim, flush_rate_limits
from tests.celery_worker import CeleryWorker as Worker
from tests.celery_worker import worker_env
from tiktok_client.simulator.app import create_app
from tiktok_client.simulator.server import run_in_thread

FAST_SIM: dict[str, Any] = {"min_processing_seconds": 0.2, "moderation_delay": 0.0}


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


def _fault_worker(sim: Sim, tmp_path_factory: Any, **env: str) -> Worker:
    base = worker_env(
        sim_base_url=sim.base_url,
        media_root=str(_media_root(tmp_path_factory)),
        # Named, so a test can drop the worker's connections and nobody else's.
        application_name=WORKER_APP,
        TIKTOK_TIMEOUT_SECONDS="2",
        PUBLISHING_POLL_FIRST_INTERVAL="0.2",
        PUBLISHING_POLL_MAX_INTERVAL="0.5",
        PUBLISHING_RETRY_BASE_SECONDS="0.5",
        **env,
    )
    return Worker(base, tmp_path_factory.mktemp("pubfault-logs"), name="pubfault")


@pytest.fixture(scope="module")
def worker(
    module_sim: Sim, tmp_path_factory: Any, django_db_setup: Any, django_db_blocker: Any
) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        w = _fault_worker(module_sim, tmp_path_factory)
    w.start()
    yield w
    w.kill()


@pytest.fixture
def worker_with(
    module_sim: Sim, worker: Worker, tmp_path_factory: Any
) -> Iterator[Callable[..., Worker]]:
    """Start a worker with these environment variables instead of the module's (stopped
    first, so the two never share the queue); killed at the end of the test."""
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker.kill()
        w = _fault_worker(module_sim, tmp_path_factory, **env)
        w.start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()


@pytest.fixture(autouse=True)
def _worker_quiet_at_teardown(
    fault_sim: Sim, worker: Worker, transactional_db: None
) -> Iterator[None]:
    """Each test starts a live worker and ends with none.

    The worker fetches delayed messages (the dispatcher's wake-up, short status polls) that
    may come due after the test: run then, they hold row locks while the test database is
    flushed, and the flush deadlocks with them. Set up after the database and torn down
    before its flush, this kills the worker first; the next test starts it again, on a broker
    `fault_sim` has emptied."""
    if not worker.alive:
        worker.start()
    yield
    worker.kill()
