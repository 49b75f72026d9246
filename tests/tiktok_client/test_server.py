"""The simulator on a real socket: what Celery workers and browser tests talk to."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import CAFE, LOGIN_KIT_SCOPES, upload_all
from tiktok_client import (
    NoRateLimiter,
    PostInfo,
    TikTokClient,
    TikTokConfig,
    TikTokUnavailable,
    plan_chunks,
)
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID, SimulatorApp, create_app
from tiktok_client.simulator.server import run_in_thread

INIT = "/v2/post/publish/video/init/"
POST = PostInfo(title="over the wire", privacy_level="PUBLIC_TO_EVERYONE")
ROOT = Path(__file__).resolve().parents[2]


class TestThreadedServer:
    @pytest.fixture
    def server(self) -> Iterator[tuple[str, SimulatorApp]]:
        app = create_app(moderation_delay=0)
        base_url, stop = run_in_thread(port=0, app=app)
        yield base_url, app
        stop()

    @pytest.fixture
    def token(self, server: tuple[str, SimulatorApp]) -> str:
        base_url, _ = server
        issued = httpx.post(f"{base_url}/_sim/tokens/issue", json={"open_id": CAFE}).json()
        return str(issued["token"]["access_token"])

    def _client(self, base_url: str, timeout: float = 5.0) -> TikTokClient:
        config = TikTokConfig.for_simulator(
            base_url, timeout_seconds=timeout, scopes=LOGIN_KIT_SCOPES
        )
        return TikTokClient(config, rate_limiter=NoRateLimiter())

    def test_publish_end_to_end_over_http(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        base_url, _ = server
        client = self._client(base_url)
        data = mp4(3000)
        plan = plan_chunks(len(data))
        init = client.init_video_post(access_token=token, post_info=POST, chunk_plan=plan)
        assert init.upload_url and init.upload_url.startswith(f"{base_url}/video/?")
        assert upload_all(client, upload_url=init.upload_url, data=data, chunk_plan=plan) == 201
        httpx.post(f"{base_url}/_sim/clock/advance", json={"seconds": 5})
        status = client.fetch_publish_status(access_token=token, publish_id=init.publish_id)
        assert status.status == "PUBLISH_COMPLETE"
        (post_id,) = status.publicly_available_post_ids
        business = httpx.post(
            f"{base_url}/_sim/tokens/issue",
            json={"open_id": CAFE, "client_key": DEFAULT_BUSINESS_APP_ID},
        ).json()["token"]
        page = client.business_list_videos(
            access_token=business["access_token"], business_id=business["open_id"], max_count=1
        )
        assert page.videos[0].item_id == post_id
        counters = httpx.get(f"{base_url}/_sim/counters").json()
        assert counters["succeeded"][INIT] == {CAFE: 1}
        assert counters["publishes"][init.publish_id]["chunks"] == 1

    def test_drop_after_accept_closes_the_connection(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        base_url, app = server
        httpx.post(f"{base_url}/_sim/faults", json={"endpoint": INIT, "kind": "drop_after_accept"})
        with pytest.raises(TikTokUnavailable) as excinfo:
            self._client(base_url).init_video_post(
                access_token=token, post_info=POST, chunk_plan=plan_chunks(10)
            )
        assert excinfo.value.code == "connection_error"
        assert len(app.state.publishes) == 1  # performed, but the answer was lost

    def test_timeout_fault_trips_the_client_timeout(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        base_url, app = server
        app.faults.add(INIT, "timeout", seconds=1.5)
        started = time.perf_counter()
        with pytest.raises(TikTokUnavailable) as excinfo:
            self._client(base_url, timeout=0.3).init_video_post(
                access_token=token, post_info=POST, chunk_plan=plan_chunks(10)
            )
        assert excinfo.value.code == "timeout"
        assert time.perf_counter() - started < 1.4
        assert app.state.publishes == {}

    def test_http_500_and_latency_over_http(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        base_url, _ = server
        client = self._client(base_url)
        httpx.post(f"{base_url}/_sim/faults", json={"endpoint": "*", "kind": "http_500"})
        with pytest.raises(TikTokUnavailable):
            client.query_creator_info(access_token=token)
        httpx.post(f"{base_url}/_sim/latency", json={"seconds": 0.1})
        started = time.perf_counter()
        assert client.query_creator_info(access_token=token).username == "corner.cafe"
        assert time.perf_counter() - started >= 0.1

    def test_consent_page_redirects_with_code(self, server: tuple[str, SimulatorApp]) -> None:
        base_url, _ = server
        client = self._client(base_url)
        page = httpx.get(client.authorize_url(state="x", code_challenge="c" * 64))
        assert 'data-open-id="sim-ava-public"' in page.text
        assert "Continue as @ava.creates" in page.text

    def test_concurrent_requests_are_served(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        base_url, app = server
        app.faults.latency_seconds = 0.2
        client = self._client(base_url)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            names = list(
                pool.map(
                    lambda _: client.get_user_info(access_token=token, fields=["username"]),
                    range(8),
                )
            )
        assert {n.username for n in names} == {"corner.cafe"}
        assert time.perf_counter() - started < 1.0  # served in parallel, not 8 * 0.2 s

    def test_one_connection_serves_request_after_request(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        """TikTok keeps connections open; so does the simulator, so that the client's
        connection pool is used as it is against TikTok."""
        base_url, _ = server
        connection = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=5)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request("POST", "/v2/post/publish/creator_info/query/", headers=headers)
        first = connection.getresponse()
        assert (first.status, first.version) == (200, 11)
        assert json.loads(first.read())["data"]["creator_username"] == "corner.cafe"
        sock = connection.sock
        assert sock is not None  # the server did not end the connection
        # A body nobody reads (an unknown path) must not be taken for the next request.
        connection.request("POST", "/v2/no/such/endpoint/", body=b"x" * 5000, headers=headers)
        unknown = connection.getresponse()
        unknown.read()
        assert unknown.status == 404
        connection.request("POST", "/v2/post/publish/creator_info/query/", headers=headers)
        again = connection.getresponse()
        assert again.status == 200 and json.loads(again.read())["error"]["code"] == "ok"
        assert connection.sock is sock
        connection.close()

    def test_connection_close_and_http_1_0_end_the_connection(
        self, server: tuple[str, SimulatorApp]
    ) -> None:
        base_url, _ = server
        host, port = base_url.removeprefix("http://").split(":")
        for request in (
            b"GET /_sim/health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n",
            b"GET /_sim/health HTTP/1.0\r\n\r\n",
        ):
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(request)
                answer = b""
                while chunk := sock.recv(65536):  # ends only when the server closes
                    answer += chunk
            assert answer.split(b"\r\n", 1)[0].endswith(b"200 OK")
            assert b'"ok": true' in answer or b'"ok":true' in answer

    def test_the_client_reuses_its_connection(
        self, server: tuple[str, SimulatorApp], token: str
    ) -> None:
        base_url, _ = server
        accepted: list[object] = []
        client = self._client(base_url)
        transport = client._http._transport
        original = transport.handle_request

        def counting(request: httpx.Request) -> httpx.Response:
            response = original(request)
            accepted.append(response.extensions["network_stream"])
            return response

        transport.handle_request = counting  # type: ignore[method-assign]
        for _ in range(3):
            client.query_creator_info(access_token=token)
        assert len(accepted) == 3
        assert len({id(stream) for stream in accepted}) == 1


def test_module_entry_point_serves_and_prints_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tiktok_client.simulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("TikTok simulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        assert httpx.get(f"{url}/_sim/health").json()["ok"] is True
    finally:
        process.terminate()
        process.wait(timeout=5)
