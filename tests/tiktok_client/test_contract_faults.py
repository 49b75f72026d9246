"""Contract: injected faults over a real socket (what TikTok's network can do to a client)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.tiktok_client.conftest import AVA
from tests.tiktok_client.contract import bearer, login_kit_tokens
from tiktok_client.simulator import SimulatorApp, create_app
from tiktok_client.simulator.server import run_in_thread

INIT = "/v2/post/publish/video/init/"
BODY = {
    "post_info": {"privacy_level": "SELF_ONLY", "title": "x"},
    "source_info": {
        "source": "FILE_UPLOAD",
        "video_size": 1000,
        "chunk_size": 1000,
        "total_chunk_count": 1,
    },
}


@pytest.fixture
def served() -> Iterator[tuple[SimulatorApp, httpx.Client]]:
    app = create_app()
    base_url, stop = run_in_thread(port=0, app=app)
    try:
        with httpx.Client(base_url=base_url, timeout=5) as client:
            yield app, client
    finally:
        stop()


def test_complete_unparseable_200_after_the_init_was_accepted(
    served: tuple[SimulatorApp, httpx.Client],
) -> None:
    # Issue 20: TikTok may answer init with a complete 200 OK whose body cannot be parsed, after
    # it acted. The answer is whole (Content-Length matches) and the publish exists.
    app, client = served
    token = login_kit_tokens(client, AVA)["access_token"]
    client.post("/_sim/faults", json={"endpoint": INIT, "kind": "unparseable_after_accept"})
    answer = client.post(INIT, json=BODY, headers=bearer(token))
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert len(app.state.publishes) == 1
    assert app.counters.successes(INIT) == 1


def test_malformed_answer_means_nothing_was_done(
    served: tuple[SimulatorApp, httpx.Client],
) -> None:
    app, client = served
    token = login_kit_tokens(client, AVA)["access_token"]
    client.post("/_sim/faults", json={"endpoint": INIT, "kind": "malformed"})
    answer = client.post(INIT, json=BODY, headers=bearer(token))
    assert answer.status_code == 200 and answer.text.startswith("<html>")
    assert app.state.publishes == {}


def test_v2_error_code_injection(served: tuple[SimulatorApp, httpx.Client]) -> None:
    # §2.9 error table: any code/status pair can be forced, e.g. 403 spam_risk_too_many_posts.
    _, client = served
    token = login_kit_tokens(client, AVA)["access_token"]
    client.post(
        "/_sim/faults",
        json={"endpoint": INIT, "kind": "error_code", "code": "spam_risk_too_many_posts",
              "status": 403},
    )  # fmt: skip
    answer = client.post(INIT, json=BODY, headers=bearer(token))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "spam_risk_too_many_posts"


def test_an_injected_publish_failure_names_a_tiktok_fail_reason(
    served: tuple[SimulatorApp, httpx.Client],
) -> None:
    # §2.7: a publish fails with one of TikTok's fail_reason names; a misspelt or invented one
    # ("internal_error" is the API error code, not the fail_reason) is refused by /_sim.
    app, client = served
    for wrong in ("internal_error", "spam_risk_too_many_post", "video_too_long"):
        answer = client.post(
            "/_sim/faults", json={"endpoint": INIT, "kind": "publish_fail", "fail_reason": wrong}
        )
        assert answer.status_code == 400, wrong
    assert app.faults.active() == []
    fine = client.post(
        "/_sim/faults",
        json={"endpoint": INIT, "kind": "publish_fail", "fail_reason": "spam_risk_text"},
    )
    assert fine.status_code == 200
