"""Composing photo carousels, first comments and hashtag suggestions: API and HTML form, same
services; TikTok is the simulator (creator_info live, Business tokens for the Business side)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountType
from calendar_app.models import MediaAsset, Post, PostStatus
from tests.calendar_app.factories import MediaAssetFactory
from tests.calendar_app.photo_factories import photo
from tests.security.test_upload_abuse import tiny_jpeg
from tests.simulator import account_with_simulator_tokens

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


def _local_in(workspace: Any, days: int) -> str:
    when = (timezone.now() + timedelta(days=days)).astimezone(workspace.tz)
    return when.strftime("%Y-%m-%dT10:00")


def _photos(workspace: Any, n: int) -> list[MediaAsset]:
    return [
        MediaAssetFactory.create(
            workspace=workspace,
            kind="image",
            content_type="image/jpeg",
            original_name=f"p{i}.jpg",
            file=ContentFile(JPEG, name=f"p{i}.jpg"),
            duration_seconds=None,
        )
        for i in range(n)
    ]


@pytest.fixture
def business(workspace: Any, tiktok_sim: Any) -> Any:
    return account_with_simulator_tokens(
        tiktok_sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=("user.info.basic", "video.publish", "video.upload", "comment.list.manage"),
        account_type=AccountType.BUSINESS,
    )


def test_api_creates_a_carousel_in_order_with_cover_and_first_comment(
    workspace: Any, editor: Any, api_client_for: Any, business: Any
) -> None:
    photos = _photos(workspace, 3)
    api = api_client_for(editor)
    order = [photos[2], photos[0], photos[1]]
    created = api.post(
        reverse("calendar_app:api_posts", args=[workspace.id]),
        {
            "caption": "Our week in pictures #cafe",
            "photo_ids": [str(p.id) for p in order],
            "photo_cover_index": 1,
            "title": "This week",
            "auto_add_music": True,
            "first_comment": "Which one is your favourite?",
            "scheduled_local": _local_in(workspace, 3),
            "targets": [{"account_id": str(business.id), "privacy_level": "PUBLIC_TO_EVERYONE",
                         "allow_comment": True}],
        },
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    (body,) = created.json()
    assert body["photo_ids"] == [str(p.id) for p in order]
    assert body["media_id"] == str(photos[0].id)  # the cover
    assert (body["photo_cover_index"], body["title"], body["auto_add_music"]) == (
        1,
        "This week",
        True,
    )
    assert body["first_comment"] == "Which one is your favourite?"
    post = Post.objects.for_workspace(workspace).get()
    assert post.status == PostStatus.SCHEDULED

    detail = reverse("calendar_app:api_post", args=[workspace.id, post.id])
    change = {"photo_ids": [str(p.id) for p in photos], "photo_cover_index": 2}
    reordered = api.patch(detail, change, format="json")
    assert reordered.status_code == 200, reordered.json()
    assert reordered.json()["photo_ids"] == [str(p.id) for p in photos]
    assert reordered.json()["media_id"] == str(photos[2].id)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"photo_ids": "video"}, "carousel_not_photos"),
        ({"photo_cover_index": 5}, "invalid_photo_cover"),
        ({"title": "x" * 91}, None),  # the serializer's own 90-character limit
        ({"first_comment": "x" * 151}, None),
        ({"duplicate": True}, "duplicate_photo"),
    ],
)
def test_api_refuses_bad_carousels_clearly(
    workspace: Any, editor: Any, api_client_for: Any, business: Any, change: Any, code: Any
) -> None:
    photos = _photos(workspace, 2)
    body: dict[str, Any] = {
        "photo_ids": [str(p.id) for p in photos],
        "scheduled_local": _local_in(workspace, 3),
        "targets": [{"account_id": str(business.id), "privacy_level": "SELF_ONLY"}],
    }
    if change.get("photo_ids") == "video":
        body["photo_ids"].append(str(MediaAssetFactory.create(workspace=workspace).id))
    elif change.get("duplicate"):
        body["photo_ids"].append(body["photo_ids"][0])
    else:
        body.update(change)
    answer = api_client_for(editor).post(
        reverse("calendar_app:api_posts", args=[workspace.id]), body, format="json"
    )
    assert answer.status_code == 400
    if code:
        assert answer.json()["error"]["code"] == code
    assert not Post.objects.for_workspace(workspace).exists()


def test_first_comment_needs_a_business_connection(
    workspace: Any, editor: Any, api_client_for: Any, tiktok_sim: Any
) -> None:
    personal = tiktok_sim.connect(workspace, "sim-ava-public")
    (photo,) = _photos(workspace, 1)
    answer = api_client_for(editor).post(
        reverse("calendar_app:api_posts", args=[workspace.id]),
        {
            "media_id": str(photo.id),
            "first_comment": "hello",
            "schedule": False,
            "targets": [{"account_id": str(personal.id)}],
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "first_comment_needs_business"
    assert "@ava" in answer.json()["error"]["message"]


def test_html_composer_keeps_the_carousel_order_and_cover(
    workspace: Any, editor: Any, client_for: Any, business: Any
) -> None:
    photos = _photos(workspace, 3)
    client = client_for(editor)
    url = reverse("calendar_app:post_create", args=[workspace.id])
    page = client.get(url).content.decode()
    assert 'data-testid="carousel-picker"' in page and 'data-testid="first-comment"' in page
    local = _local_in(workspace, 2)
    answer = client.post(
        url,
        {
            "form_token": "t-carousel-1",
            "accounts": [str(business.id)],
            f"privacy_level__{business.id}": "SELF_ONLY",
            "photo_ids": [str(photos[1].id), str(photos[2].id), str(photos[0].id)],
            "photo_cover": str(photos[2].id),
            "title": "Three of a kind",
            "caption": "Carousel #cafe",
            "post_mode": "direct",
            "scheduled_date": local[:10],
            "scheduled_time": "10:00",
            "scheduled_tz": workspace.time_zone,
            "action": "schedule",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    post = Post.objects.for_workspace(workspace).get()
    assert [p.media_id for p in post.photos.all()] == [photos[1].id, photos[2].id, photos[0].id]
    assert (post.photo_cover_index, post.media_id, post.title) == (
        1,
        photos[2].id,
        "Three of a kind",
    )
    detail = client.get(reverse("calendar_app:post_detail", args=[workspace.id, post.id]))
    shown = detail.content.decode()
    assert 'p2.jpg <span class="muted">(cover)</span>' in shown and "Three of a kind" in shown
    edit = client.get(reverse("calendar_app:post_edit", args=[workspace.id, post.id]))
    html = edit.content.decode()
    # The edit page lists the chosen photos first, in order, with the cover ticked.
    positions = [html.index(f'data-photo-id="{p.id}"') for p in (photos[1], photos[2], photos[0])]
    assert positions == sorted(positions)


def test_hashtag_suggestions_for_business_accounts_only(
    workspace: Any, editor: Any, api_client_for: Any, business: Any, tiktok_sim: Any
) -> None:
    api = api_client_for(editor)
    url = reverse("calendar_app:api_hashtag_suggestions", args=[workspace.id, business.id])
    found = api.get(url, {"keyword": "#Bread"})
    assert found.status_code == 200, found.json()
    names = [s["name"] for s in found.json()["suggestions"]]
    assert "bread" in names
    views = [s["view_count"] for s in found.json()["suggestions"]]
    assert views == sorted(views, reverse=True)
    assert api.get(url, {"keyword": ""}).status_code == 400
    personal = tiktok_sim.connect(workspace, "sim-ava-public")
    refused = api.get(
        reverse("calendar_app:api_hashtag_suggestions", args=[workspace.id, personal.id]),
        {"keyword": "bread"},
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "hashtag_suggestions_unavailable"


def test_the_composer_names_a_photo_over_1080p_it_cannot_make_tiktok_ready(
    workspace: Any, editor: Any, api_client_for: Any, business: Any
) -> None:
    # Both stored before renditions existed: one a real phone photo, one only a header.
    fine, broken = _photos(workspace, 2)
    fine.file.save("fine.jpg", ContentFile(photo(3024, 4032)))
    broken.file.save("broken.jpg", ContentFile(tiny_jpeg(3024, 4032)))
    MediaAsset.objects.for_workspace(workspace).update(width=3024, height=4032)
    body: dict[str, Any] = {
        "photo_ids": [str(fine.id), str(broken.id)],
        "scheduled_local": _local_in(workspace, 3),
        "targets": [{"account_id": str(business.id), "privacy_level": "SELF_ONLY"}],
    }
    url = reverse("calendar_app:api_posts", args=[workspace.id])
    answer = api_client_for(editor).post(url, body, format="json")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "photo_too_large"
    assert "Photo 2 is 3024x4032 px" in error["message"]
    assert "couldn't make a TikTok-sized copy" in error["message"]
    fine.refresh_from_db()
    assert not fine.rendition  # a refused check writes nothing; publishing makes it later

    body["photo_ids"] = [str(fine.id)]
    assert api_client_for(editor).post(url, body, format="json").status_code == 201
