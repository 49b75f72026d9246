"""The simulator's world kept in a file, for the quick start (`--state-file`).

Real TikTok does not forget the apps' users, tokens, publishes, videos and comments when the
product restarts; a simulator that did would leave the product holding tokens and publish_ids
nobody knows. Configuration (settings, the default apps' redirect URIs and webhooks) comes from
the command line of each run; faults, counters and webhooks still being delivered are not kept.

Simulated time keeps running while the simulator is stopped: a token that expired meanwhile is
refused, a publish that was processing has finished.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, TypeVar

from tiktok_client.media_probe import VideoFacts
from tiktok_client.simulator.media_checks import ReceivedVideo
from tiktok_client.simulator.models import (
    AccessToken,
    AuthCode,
    Creator,
    Publish,
    RefreshToken,
    SimApp,
    SimComment,
    SimVideo,
)
from tiktok_client.simulator.state import SimState, default_apps

logger = logging.getLogger(__name__)

#: Bumped whenever the file's shape changes; a file of another format is not loaded.
STATE_FORMAT = 1
SAVE_INTERVAL_SECONDS = 15.0

Record = TypeVar("Record")


class UnusableStateFile(ValueError):
    """The state file cannot be loaded (damaged, or written by another format)."""


# ---------------------------------------------------------------------- encoding


def _publish_json(publish: Publish) -> dict[str, Any]:
    data = {f.name: getattr(publish, f.name) for f in fields(Publish)}
    video = publish.received_video
    data["received_video"] = (
        None
        if video is None
        else {
            "kind": video.kind,
            "facts": asdict(video.facts) if video.facts else None,
            "location": video.location,
        }
    )
    return data


def state_to_json(state: SimState) -> dict[str, Any]:
    """Everything the simulated TikTok remembers; call with ``state.lock`` held."""
    defaults = default_apps()
    return {
        "format": STATE_FORMAT,
        "saved_at": time.time(),
        "sim_now": state.now(),
        "speed": state.clock.speed,
        "seed": state.seed,
        "epoch": state.epoch,
        "sequence": state._sequence,
        "rng": state._rng.getstate(),
        "creators": [asdict(c) for c in state.creators.values()],
        # The default apps are configured by each run's command line (redirect URIs, webhooks).
        "apps": [
            {**asdict(a), "approved_scopes": sorted(a.approved_scopes)}
            for key, a in state.apps.items()
            if key not in defaults
        ],
        "codes": [asdict(c) for c in state.codes.values()],
        "consents": [
            [key, creator, sorted(scopes)] for (key, creator), scopes in state.consents.items()
        ],
        "access_tokens": [asdict(t) for t in state.access_tokens.values()],
        "refresh_tokens": [asdict(t) for t in state.refresh_tokens.values()],
        "publishes": [_publish_json(p) for p in state.publishes.values()],
        "uploads": state.uploads,
        "videos": [asdict(v) for v in state.videos.values()],
        "comments": [asdict(c) for c in state.comments.values()],
        "video_comments": state.video_comments,
        "rate_windows": [
            [token, endpoint, list(w)] for (token, endpoint), w in state.rate_windows.items()
        ],
        "direct_posts": state.direct_posts,
    }


# ---------------------------------------------------------------------- decoding


def _record(cls: type[Record], data: dict[str, Any], **converted: Any) -> Record:
    return cls(**{**data, **converted})


def _publish(data: dict[str, Any]) -> Publish:
    video = data.get("received_video")
    received = None
    if video is not None:
        facts = VideoFacts(**video["facts"]) if video["facts"] else None
        received = ReceivedVideo(
            kind=video["kind"], facts=facts, location=bool(video.get("location", False))
        )
    sizes = [tuple(size) if size else None for size in data["pulled_photo_sizes"]]
    return _record(Publish, data, received_video=received, pulled_photo_sizes=sizes)


def _restore(state: SimState, data: dict[str, Any]) -> None:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise UnusableStateFile(f"format {found!r}, this simulator reads {STATE_FORMAT}")
    if data["seed"] != state.seed:
        raise UnusableStateFile(f"written with seed {data['seed']}, this run uses {state.seed}")
    # The simulated world kept running while the simulator was stopped.
    stopped_for = max(time.time() - float(data["saved_at"]), 0.0)
    resumed_at = float(data["sim_now"]) + stopped_for * float(data["speed"])
    creators = {c.open_id: c for c in (_record(Creator, c) for c in data["creators"])}
    apps = dict(state.apps)
    for app in data["apps"]:
        record = _record(
            SimApp,
            app,
            approved_scopes=frozenset(app["approved_scopes"]),
            verified_url_prefixes=tuple(app["verified_url_prefixes"]),
        )
        apps[record.client_key] = record
    codes = [_record(AuthCode, c, scopes=tuple(c["scopes"])) for c in data["codes"]]
    access = [_record(AccessToken, t, scopes=tuple(t["scopes"])) for t in data["access_tokens"]]
    refresh = [_record(RefreshToken, t, scopes=tuple(t["scopes"])) for t in data["refresh_tokens"]]
    publishes = [_publish(p) for p in data["publishes"]]
    videos = [_record(SimVideo, v) for v in data["videos"]]
    comments = [_record(SimComment, c) for c in data["comments"]]
    rng_state = data["rng"]
    rng_tuple = (rng_state[0], tuple(rng_state[1]), rng_state[2])

    # Everything decoded: only now is the fresh state replaced.
    state.clock.restart_at(resumed_at)
    state.epoch = float(data["epoch"])
    state._sequence = int(data["sequence"])
    state._rng.setstate(rng_tuple)
    state.creators = creators
    state.apps = apps
    state.codes = {c.code: c for c in codes}
    state.consents = {(key, creator): frozenset(s) for key, creator, s in data["consents"]}
    state.access_tokens = {t.token: t for t in access}
    state.refresh_tokens = {t.token: t for t in refresh}
    state.publishes = {p.publish_id: p for p in publishes}
    state.uploads = {str(k): str(v) for k, v in data["uploads"].items()}
    state.videos = {v.id: v for v in videos}
    state.comments = {c.comment_id: c for c in comments}
    state.video_comments = {str(k): list(v) for k, v in data["video_comments"].items()}
    state.rate_windows = {(t, e): deque(w) for t, e, w in data["rate_windows"]}
    state.direct_posts = [(float(at), oid, key) for at, oid, key in data["direct_posts"]]
    state._flow_cache.clear()
    state._followers_cache.clear()
    _settle_interrupted_transfers(state, resumed_at)


def _settle_interrupted_transfers(state: SimState, now: float) -> None:
    """Bytes in flight when the simulator stopped are gone: a download that was running
    failed (as an unreachable URL does) and an unfinished upload's URL no longer takes chunks."""
    for publish in state.publishes.values():
        if publish.source == "PULL_FROM_URL" and publish.pull_done_at is None:
            photo = publish.kind == "photo"
            publish.pull_fail_reason = "photo_pull_failed" if photo else "video_pull_failed"
            publish.pull_done_at = now
        elif publish.source == "FILE_UPLOAD" and publish.upload_done_at is None:
            publish.upload_expires_at = min(publish.upload_expires_at, now)


# ---------------------------------------------------------------------- files


def save_state(state: SimState, path: Path) -> None:
    """Write the state atomically: a reader finds the previous file or the new one, whole."""
    with state.lock:
        text = json.dumps(state_to_json(state), separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(state: SimState, path: Path) -> bool:
    """Load ``path`` into a freshly built ``state``; False when there is no file yet.

    Raises UnusableStateFile, leaving ``state`` fresh, when the file cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError) as exc:
        raise UnusableStateFile(f"unreadable: {exc}") from exc
    try:
        data = json.loads(text)
        with state.lock:
            _restore(state, data)
    except UnusableStateFile:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise UnusableStateFile(f"damaged or of an older shape ({exc!r})") from exc
    return True


def load_state_or_start_fresh(state: SimState, path: Path) -> bool:
    """The quick start's load: a file that cannot be used is reported and the world starts
    fresh, rather than the simulator not starting at all."""
    try:
        return load_state(state, path)
    except UnusableStateFile as exc:
        logger.warning("Simulator state file %s not loaded, starting fresh: %s", path, exc)
        return False


class PeriodicSaver:
    """Saves the state every ``interval`` seconds in a daemon thread and once more on ``stop``
    (a killed simulator loses at most one interval)."""

    def __init__(
        self, state: SimState, path: Path, *, interval: float = SAVE_INTERVAL_SECONDS
    ) -> None:
        self.state = state
        self.path = path
        self.interval = interval
        self._stopping = threading.Event()
        self._saving = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="tiktok-sim-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def save(self) -> None:
        with self._saving:
            try:
                save_state(self.state, self.path)
            except OSError as exc:
                logger.error("Simulator state not saved to %s: %s", self.path, exc)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.save()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.save()
