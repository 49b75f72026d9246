"""REST API: posts CRUD, reschedule, media, creator info; same rules as the HTML views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Post, PostStatus
from tests.calendar_app.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db


def local_in(workspace, days: int) -> str:
    when = (timezone.now() + timedelta(days=days)).astimezone(workspace.tz)
    return when.strftime("%Y-%m-%dT10:00")


@pytest.fixture
def setup(workspace, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-quiet-chef")  # comments off, 60 s max
    media = MediaAssetFactory.create(workspace=workspace, duration_seconds=30)
    return account, media


def test_create_list_update_reschedule_delete(workspace, editor, api_client_for, setup):
    account, media = setup
    api = api_client_for(editor)
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    body = {
        "caption": "API post #food",
        "media_id": str(media.id),
        "scheduled_local": local_in(workspace, 4),
        "targets": [{"account_id": str(account.id), "privacy_level": "SELF_ONLY"}],
    }
    created = api.post(base, body, format="json")
    assert created.status_code == 201, created.json()
    (post,) = created.json()
    assert post["status"] == "scheduled" and post["scheduled_tz"] == "Europe/Paris"
    assert post["account"]["username"] == "quiet.chef"

    listed = api.get(base, {"status": "scheduled"}).json()
    assert [p["id"] for p in listed["results"]] == [post["id"]]

    detail = reverse("calendar_app:api_post", args=[workspace.id, post["id"]])
    patched = api.patch(detail, {"caption": "Edited"}, format="json")
    assert patched.status_code == 200 and patched.json()["caption"] == "Edited"
    refused = api.patch(detail, {"allow_comment": True}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "interaction_disabled"

    resched = reverse("calendar_app:api_post_reschedule", args=[workspace.id, post["id"]])
    moved = api.post(resched, {"scheduled_local": local_in(workspace, 6)}, format="json")
    assert moved.status_code == 200 and moved.json()["scheduled_local"] == local_in(workspace, 6)
    gap = api.post(
        resched,
        {"scheduled_local": "2030-03-31T02:30", "scheduled_tz": "Europe/Paris"},
        format="json",
    )
    assert gap.status_code == 400
    assert gap.json()["error"]["details"]["suggested_local"] == "2030-03-31T03:30"

    assert api.delete(detail).status_code == 204
    assert not Post.objects.for_workspace(workspace).exists()


def test_validation_errors_are_one_json_shape(workspace, editor, api_client_for, setup):
    account, media = setup
    api = api_client_for(editor)
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    long_video = MediaAssetFactory.create(workspace=workspace, duration_seconds=90)
    cases: list[tuple[dict[str, str], dict[str, object], str]] = [
        ({"privacy_level": ""}, {}, "privacy_required"),
        (
            {"privacy_level": "PUBLIC_TO_EVERYONE"},
            {"media_id": str(long_video.id)},
            "preflight_failed",
        ),
        (
            {"privacy_level": "SELF_ONLY"},
            {"commercial_content": True, "brand_content": True},
            "branded_private",
        ),
        ({"privacy_level": "SELF_ONLY"}, {"caption": "x" * 2201}, "caption_invalid"),
        ({"privacy_level": "SELF_ONLY"}, {"scheduled_local": "2020-01-01T10:00"}, "time_in_past"),
        ({"privacy_level": "SELF_ONLY"}, {"scheduled_tz": "Nowhere/City"}, "invalid_time_zone"),
    ]
    for target, extra, code in cases:
        body = {
            "media_id": str(media.id),
            "scheduled_local": local_in(workspace, 4),
            "targets": [{"account_id": str(account.id), **target}],
            **extra,
        }
        response = api.post(base, body, format="json")
        assert response.status_code == 400, (code, response.json())
        assert response.json()["error"]["code"] == code
    assert not Post.objects.for_workspace(workspace).exists()


def test_drafts_and_fold_choice(workspace, editor, api_client_for, setup):
    account, media = setup
    api = api_client_for(editor)
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    draft = api.post(
        base, {"schedule": False, "targets": [{"account_id": str(account.id)}]}, format="json"
    )
    assert draft.status_code == 201 and draft.json()[0]["status"] == "draft"
    body = {
        "media_id": str(media.id),
        "scheduled_local": "2030-10-27T02:30",
        "targets": [{"account_id": str(account.id), "privacy_level": "SELF_ONLY"}],
    }
    ambiguous = api.post(base, body, format="json")
    assert ambiguous.json()["error"]["code"] == "ambiguous_local_time"
    second = api.post(base, {**body, "fold": 1}, format="json")
    assert second.status_code == 201
    assert second.json()[0]["scheduled_at"].startswith("2030-10-27T01:30")


def test_roles(workspace, viewer, outsider, api_client_for, setup):
    account, media = setup
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    assert api_client_for(viewer).get(base).status_code == 200
    body = {"schedule": False, "targets": [{"account_id": str(account.id)}]}
    assert api_client_for(viewer).post(base, body, format="json").status_code == 403
    assert api_client_for(outsider).get(base).status_code == 404
    media_url = reverse("calendar_app:api_media_detail", args=[workspace.id, media.id])
    assert api_client_for(viewer).delete(media_url).status_code == 403


def test_media_upload_list_delete(workspace, editor, api_client_for, make_media):
    api = api_client_for(editor)
    base = reverse("calendar_app:api_media", args=[workspace.id])
    video = SimpleUploadedFile("clip.bin", make_media().read_bytes())
    created = api.post(base, {"file": video}, format="multipart")
    assert created.status_code == 201 and created.json()["content_type"] == "video/mp4"
    png = SimpleUploadedFile("photo.jpg", make_media(size="400x500", fmt="png").read_bytes())
    refused = api.post(base, {"file": png}, format="multipart")
    assert refused.status_code == 400 and "PNG" in refused.json()["error"]["message"]
    assert [m["id"] for m in api.get(base).json()["results"]] == [created.json()["id"]]
    detail = reverse("calendar_app:api_media_detail", args=[workspace.id, created.json()["id"]])
    assert api.delete(detail).status_code == 204


def test_creator_info(workspace, editor, api_client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-dance-business")
    url = reverse("calendar_app:api_creator_info", args=[workspace.id, account.id])
    data = api_client_for(editor).get(url).json()
    assert data["nickname"] == "Move Dance Studio" and data["duet_disabled"] is True
    banned = tiktok_sim.connect(workspace, "sim-paused-poster")
    url = reverse("calendar_app:api_creator_info", args=[workspace.id, banned.id])
    response = api_client_for(editor).get(url)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "creator_cannot_post"


def test_published_posts_cannot_be_edited(workspace, editor, api_client_for, setup):
    account, _media = setup
    api = api_client_for(editor)
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    (post,) = api.post(
        base, {"schedule": False, "targets": [{"account_id": str(account.id)}]}, format="json"
    ).json()
    Post.objects.for_workspace(workspace).update(status=PostStatus.PUBLISHED)
    detail = reverse("calendar_app:api_post", args=[workspace.id, post["id"]])
    response = api.delete(detail)
    assert response.status_code == 409 and response.json()["error"]["code"] == "post_not_editable"
