"""Everything that goes to TikTok is versioned, and editing any of it sends an approved post back
to review: the caption and settings, and also the photo title, the first comment, the video or
the photos and their order, the cover and the music. A save that changes nothing keeps the
approval and stores no version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import BusinessStatus, TikTokAccount, User, Workspace
from calendar_app import services
from calendar_app.approvals.services import post_approve
from calendar_app.approvals.versions import version_history
from calendar_app.models import ActivityEntry, MediaAsset, Post, PostStatus, PostVersion
from calendar_app.publishing.dispatch import posts_dispatch_due
from calendar_app.services import PostContent, PostTarget
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@pytest.fixture
def approvals_on(workspace: Workspace) -> Workspace:
    workspace.approval_required = True
    workspace.save()
    return workspace


@pytest.fixture
def account(workspace: Workspace) -> TikTokAccount:
    """Business-linked, so a first comment is allowed."""
    return TikTokAccountFactory.create(
        workspace=workspace,
        username="ava.creates",
        business_id="biz-ava",
        business_status=BusinessStatus.CONNECTED,
        business_scopes=["comment.list", "comment.list.manage"],
    )


def _video(workspace: Workspace, name: str = "clip.mp4") -> MediaAsset:
    return MediaAssetFactory.create(workspace=workspace, original_name=name, duration_seconds=30.0)


def _photo(workspace: Workspace, name: str) -> MediaAsset:
    return MediaAssetFactory.create(
        workspace=workspace,
        kind="image",
        content_type="image/jpeg",
        original_name=name,
        file=ContentFile(JPEG, name=name),
        duration_seconds=None,
    )


def _when() -> Any:
    return (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0, tzinfo=None)


def _create(workspace: Workspace, account: TikTokAccount, user: User, **content: Any) -> Post:
    (post,) = services.post_create(
        workspace=workspace,
        user=user,
        content=PostContent(
            caption="Swipe through the new menu #food",
            scheduled_local=_when(),
            scheduled_tz="UTC",
            **content,
        ),
        targets=[PostTarget(account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE")],
        schedule=True,
        creator_infos={str(account.id): creator_info()},
    )
    return post


def _save(post: Post, user: User, target: dict[str, Any] | None = None, **content: Any) -> Post:
    """The composer's save of `post` with `content` (and `target`) fields replaced."""
    stored = Post.objects.for_workspace(post.workspace_id).get(pk=post.pk)
    was_content, was_target = services.post_content_of(stored)
    return services.post_update(
        workspace=stored.workspace,
        post=stored,
        content=PostContent(**{**was_content.__dict__, **content}),
        target=PostTarget(**{**was_target.__dict__, **(target or {})}),
        schedule=True,
        creator_infos={str(stored.account_id): creator_info()},
        actor=user,
    )


def _approved(post: Post, owner: User) -> Post:
    return post_approve(workspace=post.workspace, post=post, user=owner)


def _latest_changes(post: Post) -> list[tuple[str, str, str]]:
    latest = version_history(post)[0]
    return [(c.label, c.before, c.after) for c in latest.changes]


def _back_in_review(post: Post) -> None:
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_at is None and post.approved_by is None
    assert post.scheduled_at is not None
    assert posts_dispatch_due(now=post.scheduled_at + timedelta(seconds=1)) == []


@pytest.fixture
def carousel(
    approvals_on: Workspace, account: TikTokAccount, editor: User, owner: User
) -> tuple[Post, list[MediaAsset]]:
    """An approved three-photo carousel with a title, first comment, music and cover."""
    photos = [_photo(approvals_on, f"menu-{i}.jpg") for i in (1, 2, 3)]
    post = _create(
        approvals_on,
        account,
        editor,
        photo_ids=tuple(p.id for p in photos),
        photo_cover_index=1,
        title="Our new menu",
        first_comment="Menu link in bio!",
        auto_add_music=True,
    )
    assert post.status == PostStatus.IN_REVIEW
    return _approved(post, owner), photos


# --- a save that changes nothing keeps the approval -------------------------------------------


def test_saving_an_approved_carousel_unchanged_keeps_its_approval(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, _ = carousel
    for _ in range(2):
        same = _save(post, editor)
        assert same.status == PostStatus.SCHEDULED
        assert same.approved_at == post.approved_at
    assert PostVersion.objects.for_workspace(post.workspace_id).filter(post=post).count() == 1
    verbs = ActivityEntry.objects.for_workspace(post.workspace_id).values_list("verb", flat=True)
    assert "edited" not in set(verbs)


def test_saving_an_approved_video_post_unchanged_keeps_its_approval(
    approvals_on: Workspace, account: TikTokAccount, editor: User, owner: User
) -> None:
    video = _video(approvals_on)
    post = _create(
        approvals_on,
        account,
        editor,
        media_id=video.id,
        cover_timestamp_ms=1500,
        first_comment="Say hi",
        is_aigc=True,
    )
    post = _approved(post, owner)
    same = _save(post, editor)
    assert same.status == PostStatus.SCHEDULED and same.approved_at == post.approved_at
    assert same.versions.count() == 1


# --- each field that goes to TikTok ------------------------------------------------------------


def test_editing_the_photo_title_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, _ = carousel
    edited = _save(post, editor, title="Our autumn menu")
    _back_in_review(edited)
    assert edited.versions.count() == 2
    assert _latest_changes(edited) == [("Photo title", "Our new menu", "Our autumn menu")]


def test_editing_the_first_comment_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, _ = carousel
    edited = _save(post, editor, first_comment="Book a table: link in bio")
    _back_in_review(edited)
    assert _latest_changes(edited) == [
        ("First comment", "Menu link in bio!", "Book a table: link in bio")
    ]


def test_reordering_the_photos_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, photos = carousel
    order = (photos[2].id, photos[0].id, photos[1].id)
    edited = _save(post, editor, photo_ids=order)
    _back_in_review(edited)
    assert list(edited.photos.values_list("media_id", flat=True)) == list(order)
    assert _latest_changes(edited) == [
        (
            "Photos (in order)",
            "1. menu-1.jpg, 2. menu-2.jpg, 3. menu-3.jpg",
            "1. menu-3.jpg, 2. menu-1.jpg, 3. menu-2.jpg",
        ),
        # The second photo is still the cover: now another image.
        ("Cover photo", "Photo 2 (menu-2.jpg)", "Photo 2 (menu-1.jpg)"),
    ]


def test_swapping_a_photo_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, photos = carousel
    dessert = _photo(post.workspace, "dessert.jpg")
    edited = _save(post, editor, photo_ids=(photos[0].id, photos[1].id, dessert.id))
    _back_in_review(edited)
    ((label, _, after),) = _latest_changes(edited)
    assert (label, after) == ("Photos (in order)", "1. menu-1.jpg, 2. menu-2.jpg, 3. dessert.jpg")


def test_another_photo_with_the_same_file_name_is_a_change(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, photos = carousel
    lookalike = _photo(post.workspace, "menu-3.jpg")
    edited = _save(post, editor, photo_ids=(photos[0].id, photos[1].id, lookalike.id))
    _back_in_review(edited)
    ((label, before, after),) = _latest_changes(edited)
    assert label == "Photos (in order)"
    assert after == before + " (another file of the same name)"


def test_changing_the_cover_photo_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, _ = carousel
    edited = _save(post, editor, photo_cover_index=2)
    _back_in_review(edited)
    assert _latest_changes(edited) == [
        ("Cover photo", "Photo 2 (menu-2.jpg)", "Photo 3 (menu-3.jpg)")
    ]


def test_switching_the_music_off_sends_it_back_to_review(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    post, _ = carousel
    edited = _save(post, editor, auto_add_music=False)
    _back_in_review(edited)
    assert _latest_changes(edited) == [("Music added by TikTok", "On", "Off")]


@pytest.fixture
def approved_video(
    approvals_on: Workspace, account: TikTokAccount, editor: User, owner: User
) -> Post:
    post = _create(
        approvals_on, account, editor, media_id=_video(approvals_on).id, cover_timestamp_ms=1500
    )
    return _approved(post, owner)


def test_changing_the_video_sends_it_back_to_review(approved_video: Post, editor: User) -> None:
    other = _video(approved_video.workspace, "final-cut.mp4")
    edited = _save(approved_video, editor, media_id=other.id)
    _back_in_review(edited)
    assert _latest_changes(edited) == [("Video or photo", "clip.mp4", "final-cut.mp4")]


def test_another_video_with_the_same_file_name_is_a_change(
    approved_video: Post, editor: User
) -> None:
    other = _video(approved_video.workspace, "clip.mp4")
    edited = _save(approved_video, editor, media_id=other.id)
    _back_in_review(edited)
    assert _latest_changes(edited) == [
        ("Video or photo", "clip.mp4", "clip.mp4 (another file of the same name)")
    ]


def test_changing_the_cover_frame_sends_it_back_to_review(
    approved_video: Post, editor: User
) -> None:
    edited = _save(approved_video, editor, cover_timestamp_ms=4000)
    _back_in_review(edited)
    assert _latest_changes(edited) == [("Cover frame", "1.5 s", "4.0 s")]


@pytest.mark.parametrize(
    ("content", "target", "change"),
    [
        ({"caption": "Swipe through the autumn menu #food"}, {}, None),
        ({"is_aigc": True}, {}, ("AI-generated label", "Off", "On")),
        ({}, {"allow_comment": True}, ("Comments", "Off", "On")),
        ({}, {"privacy_level": "SELF_ONLY"}, ("Who can view", "Everyone", "Only me")),
    ],
)
def test_caption_and_settings_still_send_it_back_to_review(
    approved_video: Post,
    editor: User,
    content: dict[str, Any],
    target: dict[str, Any],
    change: tuple[str, str, str] | None,
) -> None:
    edited = _save(approved_video, editor, target=target, **content)
    _back_in_review(edited)
    assert _latest_changes(edited) == ([change] if change else [])


def test_the_versions_page_and_api_show_the_new_fields_readably(
    carousel: tuple[Post, list[MediaAsset]],
    editor: User,
    owner: User,
    client_for: Callable[[User], Any],
    api_client_for: Callable[[User], Any],
) -> None:
    post, photos = carousel
    _save(
        post,
        editor,
        title="Our autumn menu",
        first_comment="Book a table",
        photo_ids=(photos[1].id, photos[0].id, photos[2].id),
    )
    page = client_for(owner).get(
        reverse("approvals:post_versions", args=[post.workspace_id, post.id])
    )
    assert page.status_code == 200
    body = page.content.decode()
    for shown in (
        "<strong>Photo title</strong>: <del>Our new menu</del> → <ins>Our autumn menu</ins>",
        "<strong>First comment</strong>: <del>Menu link in bio!</del> → <ins>Book a table</ins>",
        "<ins>1. menu-2.jpg, 2. menu-1.jpg, 3. menu-3.jpg</ins>",
        # The first version lists what it was created with.
        "<strong>Music added by TikTok</strong>: On",
        "<strong>Cover photo</strong>: Photo 2 (menu-2.jpg)",
    ):
        assert shown in body
    assert "photo_ids" not in body and str(photos[0].id) not in body  # ids are not shown

    api = api_client_for(owner).get(
        reverse("approvals:api_post_versions", args=[post.workspace_id, post.id])
    )
    assert api.status_code == 200
    latest = api.json()[0]
    assert latest["options"]["title"] == "Our autumn menu"
    assert latest["options"]["photos"] == ["menu-2.jpg", "menu-1.jpg", "menu-3.jpg"]
    assert {c["setting"] for c in latest["changes"]} == {
        "Photo title",
        "First comment",
        "Photos (in order)",
        "Cover photo",
    }


def test_a_version_kept_before_a_field_was_versioned_does_not_reset_approval(
    carousel: tuple[Post, list[MediaAsset]], editor: User
) -> None:
    """A version stored before the title and first comment were versioned lacks them: an
    unchanged save still keeps the approval, and a later edit shows them as not recorded."""
    post, _ = carousel
    version = post.versions.get()
    for name in ("title", "first_comment", "photos", "photo_ids", "photo_cover_index"):
        version.options.pop(name)
    version.save()
    same = _save(post, editor)
    assert same.status == PostStatus.SCHEDULED and same.approved_at is not None
    assert same.versions.count() == 1
    edited = _save(post, editor, title="Our autumn menu")
    _back_in_review(edited)
    changes = _latest_changes(edited)
    assert ("Photo title", "Not recorded", "Our autumn menu") in changes
