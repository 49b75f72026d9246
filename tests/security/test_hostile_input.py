"""Hostile input gets a clear 400 (or a refusal in words), never a 500."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User, Workspace
from calendar_app.media import MediaRejected, inspect_file
from calendar_app.models import MediaAsset
from conversations.models import BULK_MAX_IDS
from tests.security.conftest import Seeded
from tests.security.test_upload_abuse import tiny_jpeg

pytestmark = pytest.mark.django_db


def test_nul_bytes_in_query_parameters_are_400_on_api_and_html(
    seeded: Seeded, owner: User, client_for: Callable[[User], Client]
) -> None:
    ws = seeded.workspace.pk
    client = client_for(owner)
    api_urls = [
        f"/api/v1/w/{ws}/comments/?q=a%00b",
        f"/api/v1/w/{ws}/comments/?author=%00",
        f"/api/v1/w/{ws}/media/?kind=vid%00eo",
        f"/api/v1/w/{ws}/posts/?status=%00",
    ]
    for url in api_urls:
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "invalid_characters"
    html_urls = [
        reverse("conversations:inbox", args=[ws]) + "?q=%00",
        reverse("conversations:person", args=[ws, seeded.hostile_author_comment.person_ref])
        + "?cursor=%00",
        reverse("accounts:workspace_settings", args=[ws]) + "?x=%00",
        "/invitations/abc%00def/",
        reverse("calendar_app:calendar", args=[ws]) + "?%00=1",
    ]
    for url in html_urls:
        response = client.get(url)
        assert response.status_code == 400, url
        assert b"NUL character" in response.content


def test_nul_bytes_in_form_posts_are_400(
    seeded: Seeded, owner: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).post(
        reverse("accounts:workspace_settings", args=[seeded.workspace.pk]),
        {"name": "New\x00name", "time_zone": "UTC"},
    )
    assert response.status_code == 400
    seeded.workspace.refresh_from_db()
    assert "\x00" not in seeded.workspace.name


def test_workspace_patch_takes_json_objects_and_form_bodies_and_refuses_the_rest(
    workspace: Workspace, owner: User, api_client_for: Callable[[User], APIClient]
) -> None:
    client = api_client_for(owner)
    url = reverse("accounts:api_workspace", args=[workspace.pk])
    for body in ([1, 2], "just a string", 42, None):
        response = client.patch(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "validation_failed"
    response = client.patch(
        url, "name=Renamed+by+form", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed by form"
    response = client.patch(url, {"time_zone": "Europe/Paris"}, format="json")
    assert response.status_code == 200
    assert response.json() | {} == response.json()
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone) == ("Renamed by form", "Europe/Paris")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"])
def test_calendar_dates_far_out_are_400(
    day: str, workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    for view in ("month", "week", "list"):
        url = reverse("calendar_app:calendar", args=[workspace.pk]) + f"?view={view}&date={day}"
        response = client.get(url)
        assert response.status_code == 400, (view, day)
        assert b"The calendar shows the years" in response.content


def test_rescheduling_to_year_9999_is_400(
    seeded: Seeded, owner: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse("calendar_app:post_reschedule", args=[seeded.workspace.pk, seeded.post.pk])
    for day in ("9999-12-31", "0001-01-01"):
        response = client_for(owner).post(url, {"date": day, "time": "23:59"})
        assert response.status_code == 400, day


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_a_deeply_nested_mp4_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    inner = _box(b"tkhd", b"\x00" * 84)
    for _ in range(5000):
        inner = _box(b"mdia", inner)
    path = tmp_path / "nested.mp4"
    path.write_bytes(_box(b"ftyp", b"isom\x00\x00\x02\x00") + _box(b"moov", _box(b"trak", inner)))
    with pytest.raises(MediaRejected, match="nest too deeply"):
        inspect_file(path)


def test_an_image_claiming_65000_by_65000_pixels_is_refused(
    workspace: Workspace,
    owner: User,
    api_client_for: Callable[[User], APIClient],
    client_for: Callable[[User], Client],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    bomb = tiny_jpeg(65000, 65000)
    response = api_client_for(owner).post(
        reverse("calendar_app:api_media", args=[workspace.pk]),
        {"file": SimpleUploadedFile("bomb.jpg", bomb, content_type="image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "media_too_many_pixels"
    assert "65000x65000" in error["message"] and "megapixels" in error["message"]
    html = client_for(owner).post(
        reverse("calendar_app:media", args=[workspace.pk]),
        {"file": SimpleUploadedFile("bomb.jpg", bomb, content_type="image/jpeg")},
        follow=True,
    )
    assert b"megapixels" in html.content
    assert not MediaAsset.objects.for_workspace(workspace).exists()


def test_bulk_requests_are_capped(
    seeded: Seeded,
    owner: User,
    api_client_for: Callable[[User], APIClient],
    client_for: Callable[[User], Client],
) -> None:
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(BULK_MAX_IDS + 1)]
    response = api_client_for(owner).post(
        reverse("conversations:api_comments_bulk", args=[seeded.workspace.pk]),
        {"ids": ids, "action": "read"},
        format="json",
    )
    assert response.status_code == 400
    html = client_for(owner).post(
        reverse("conversations:bulk", args=[seeded.workspace.pk]),
        {"ids": ids, "action": "read"},
        follow=True,
    )
    assert html.status_code == 200
    assert f"at most {BULK_MAX_IDS}".encode() in html.content


def test_json_nested_past_the_recursion_limit_is_a_400(
    workspace: Workspace, owner: User, api_client_for: Callable[[User], APIClient]
) -> None:
    client = api_client_for(owner)
    url = reverse("calendar_app:api_notes", args=[workspace.pk])
    for body in ("[" * 50_000 + "]" * 50_000, '{"a":' * 5_000 + "1" + "}" * 5_000):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "parse_error"
