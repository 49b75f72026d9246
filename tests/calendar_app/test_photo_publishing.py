"""Photo carousels, pulled videos, Business publishing and the first comment, against the
simulator, which really downloads the product's signed public links from the live server."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountType, Workspace
from accounts.tiktok import signals
from calendar_app import services
from calendar_app.models import (
    FirstCommentStatus,
    MediaAsset,
    Post,
    PostPhoto,
    PostStatus,
    PublishApi,
)
from calendar_app.public_media import public_media_url
from calendar_app.publishing import dispatch, first_comment, run
from later.celery import app as celery_app
from tests.calendar_app.photo_factories import make_carousel, make_image, photo, point_pulls_at
from tests.calendar_app.publishing_factories import (
    Sim,
    connect_account,
    make_post,
    pub_sim,
    run_until_settled,
)
from tests.security.test_upload_abuse import tiny_jpeg
from tests.simulator import account_with_simulator_tokens

__all__ = ["pub_sim"]

pytestmark = pytest.mark.django_db(transaction=True)

CONTENT_INIT = "/v2/post/publish/content/init/"
VIDEO_INIT = "/v2/post/publish/video/init/"
BIZ = "/open_api/v1.3/business"
BUSINESS_SCOPES = (
    "user.info.basic",
    "video.publish",
    "video.upload",
    "video.list",
    "comment.list",
    "comment.list.manage",
)


def _refresh(post: Post) -> Post:
    return Post.objects.for_workspace(post.workspace_id).get(pk=post.pk)


def _publish(post: Post) -> Post:
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    run_until_settled(post, token, passes=20, pause=0.2)
    return _refresh(post)


def _linked(post: Post) -> Post:
    """Business post_ids may lag the status (§2.7): run the due link lookups once."""
    if not post.tiktok_post_id and post.published_at is not None:
        dispatch.posts_resolve_due_links(now=post.published_at + dispatch.LINK_LEASE)
    return _refresh(post)


def _kinds(post: Post) -> list[str]:
    return list(post.events.values_list("kind", flat=True))


@pytest.fixture
def pulls(pub_sim: Sim, settings: Any, live_server: Any) -> Sim:
    point_pulls_at(pub_sim, settings, live_server.url)
    return pub_sim


@pytest.fixture
def eager() -> Any:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_carousel_publishes_through_the_verified_prefix(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = make_carousel(account, make_media, count=3, cover=1, auto_add_music=True)
    post = _publish(post)

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert pulls.state.counters.requests_to(CONTENT_INIT) == 1  # init exactly once
    (publish,) = pulls.state.publishes.values()
    assert publish.kind == "photo" and publish.direct
    assert publish.post_info["title"] == "Our new menu"
    assert publish.post_info["description"] == "Swipe through the new menu #food"
    assert publish.post_info["auto_add_music"] is True
    images = [p.media for p in post.photos.all()]
    assert publish.pulled_bytes == sum(i.size_bytes for i in images)  # TikTok fetched them all
    assert post.bytes_total == publish.pulled_bytes and post.chunks_total == 0
    assert {"initiated", "processing", "published"} <= set(_kinds(post))
    assert "downloading the photos" in post.events.get(kind="initiated").message


def test_carousel_refused_for_an_unverified_prefix(
    pulls: Sim, settings: Any, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    settings.MEDIA_PUBLIC_BASE_URL = "https://cdn.not-verified.test/public-media/"
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = _publish(make_carousel(account, make_media, count=2, cover=0))

    assert post.status == PostStatus.FAILED
    assert post.fail_code == "url_ownership_unverified"
    assert "url_ownership_unverified" in post.fail_message  # TikTok's own words are shown
    assert post.init_started_at is None  # refused at init: retrying cannot post it twice
    assert not pulls.state.publishes


def test_a_pull_tiktok_cannot_fetch_fails_with_photo_pull_failed(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    # The verified prefix leads nowhere (the host behind it is down).
    pulls.state.settings.pull_resolve = "https://media.later.test/public-media/=http://127.0.0.1:9/"
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = _publish(make_carousel(account, make_media, count=2, cover=0))

    assert post.status == PostStatus.FAILED
    assert post.fail_code == "photo_pull_failed"
    assert "could not download the photos" in post.fail_message
    assert pulls.state.counters.requests_to(CONTENT_INIT) == 1


def test_png_content_is_refused_by_tiktok_format_check(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = make_carousel(account, make_media, count=1, cover=0)
    image = post.photos.get().media
    image.file.save("x.jpg", ContentFile(make_media(fmt="png").read_bytes()), save=True)
    post = _publish(post)
    assert (post.status, post.fail_code) == (PostStatus.FAILED, "file_format_check_failed")


def _photo_post(account: Any, photos: list[MediaAsset]) -> Post:
    post = make_post(account, media=photos[0], title="Phone photos")
    for position, image in enumerate(photos):
        PostPhoto.objects.create(
            workspace=account.workspace, post=post, media=image, position=position
        )
    return post


def _uploaded(client: Any, workspace: Workspace, data: bytes, name: str) -> MediaAsset:
    """Through the library page's real upload path, as a browser sends it."""
    answer = client.post(
        reverse("calendar_app:media", args=[workspace.id]),
        {"file": SimpleUploadedFile(name, data)},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 201, answer.content
    return MediaAsset.objects.for_workspace(workspace).get(pk=answer.json()["media"]["id"])


def test_a_phone_photo_is_published_as_its_1080p_copy(
    pulls: Sim, workspace: Workspace, editor: Any, client_for: Any
) -> None:
    # Fact sheet §2.5: at most 1080p; the simulator fails a bigger pull with
    # picture_size_check_failed. Phones take 3024x4032, and one held upright may be stored
    # landscape with an EXIF rotation.
    client = client_for(editor)
    upright = _uploaded(client, workspace, photo(3024, 4032), "IMG_0001.jpg")
    turned = _uploaded(client, workspace, photo(4032, 3024, orientation=6), "IMG_0002.jpg")
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = _publish(_photo_post(account, [upright, turned]))

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    (publish,) = pulls.state.publishes.values()
    assert publish.kind == "photo"
    assert publish.pulled_photo_sizes == [(1080, 1440), (1080, 1440)]
    copies = [upright.rendition_size_bytes, turned.rendition_size_bytes]
    assert None not in copies and publish.pulled_bytes == sum(c or 0 for c in copies)
    assert post.bytes_total == publish.pulled_bytes  # the timeline shows what TikTok fetched
    page = client.get(reverse("calendar_app:media", args=[workspace.id]))
    assert "3024\u00d74032" in page.content.decode()  # the library shows the original


def test_a_landscape_photo_is_published_within_1920x1080(pulls: Sim, workspace: Workspace) -> None:
    wide = services.media_upload(
        workspace=workspace, user=None, upload=io.BytesIO(photo(6000, 4000)), original_name="w"
    )
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = _publish(_photo_post(account, [wide]))

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    (publish,) = pulls.state.publishes.values()
    assert publish.pulled_photo_sizes == [(1620, 1080)]


def test_a_photo_within_1080p_is_pulled_as_it_is(pulls: Sim, workspace: Workspace) -> None:
    data = photo(1080, 1920)
    fits = services.media_upload(
        workspace=workspace, user=None, upload=io.BytesIO(data), original_name="fits.jpg"
    )
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = _publish(_photo_post(account, [fits]))

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert not fits.rendition
    (publish,) = pulls.state.publishes.values()
    assert (publish.pulled_photo_sizes, publish.pulled_bytes) == ([(1080, 1920)], len(data))


def test_a_photo_stored_before_renditions_gets_one_on_its_way_to_tiktok(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = make_carousel(account, make_media, count=2, cover=0)
    image = post.photos.get(position=1).media
    image.file.save("big.jpg", ContentFile(make_media(size="1440x2560", fmt="jpg").read_bytes()))
    image.width, image.height = 1440, 2560
    image.save()
    post = _publish(post)

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    (publish,) = pulls.state.publishes.values()
    assert publish.pulled_photo_sizes == [(360, 640), (1080, 1920)]
    image.refresh_from_db()
    assert (image.width, image.rendition_width, image.rendition_height) == (1440, 1080, 1920)


def test_an_unreadable_photo_over_1080p_is_refused_before_tiktok_is_asked(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    # Stored before renditions existed; its header says 3024x4032 with no image behind it.
    account = connect_account(pulls, workspace, "sim-ava-public")
    post = make_carousel(account, make_media, count=2, cover=0)
    image = post.photos.get(position=1).media
    image.file.save("broken.jpg", ContentFile(tiny_jpeg(3024, 4032)))
    image.width, image.height = 3024, 4032
    image.save()
    post = _publish(post)

    assert (post.status, post.fail_code) == (PostStatus.FAILED, "photo_too_large")
    assert "Photo 2 is 3024x4032 px" in post.fail_message
    assert "couldn't make a TikTok-sized copy" in post.fail_message
    assert pulls.state.counters.requests_to(CONTENT_INIT) == 0


def test_video_by_pull_from_url_when_configured(
    pulls: Sim, settings: Any, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    settings.TIKTOK_VIDEO_SOURCE = "PULL_FROM_URL"
    account = connect_account(pulls, workspace, "sim-ava-public")
    video = make_image(workspace, make_media(fmt="mp4"), "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    video.save()
    post = _publish(make_post(account, media=video))
    assert post.status == PostStatus.PUBLISHED, post.fail_message
    (publish,) = pulls.state.publishes.values()
    assert publish.source == "PULL_FROM_URL" and publish.pulled_bytes == video.size_bytes
    assert pulls.state.counters.requests_to("/video/") == 0  # nothing uploaded by us


def test_a_lost_init_answer_by_pull_is_settled_published_by_the_webhook(
    pulls: Sim, settings: Any, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    """The init was accepted but its answer unreadable: TikTok fetches the video itself, and
    its `post.publish.complete` names a publish_id no post holds. The one post that lost its
    answer adopts it, and TikTok's status settles it published, with one init."""
    settings.TIKTOK_VIDEO_SOURCE = "PULL_FROM_URL"
    account = connect_account(pulls, workspace, "sim-ava-public")
    video = make_image(workspace, make_media(fmt="mp4"), "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    video.save()
    post = make_post(account, media=video)
    pulls.app.faults.add(VIDEO_INIT, "unparseable_after_accept")
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    run.post_publish(post_id=post.pk, claim_token=token)
    assert _refresh(post).status == PostStatus.UNCONFIRMED
    (publish_id,) = pulls.state.publishes

    signals.publish_event.send(
        sender=None, open_id=account.open_id, publish_id=publish_id, event="post.publish.complete"
    )
    dispatch.posts_resume_due_polls(now=timezone.now() + dt.timedelta(seconds=1))
    resumed = _refresh(post)
    assert resumed.status == PostStatus.PUBLISHING and resumed.claim_token is not None
    run_until_settled(resumed, resumed.claim_token, passes=20, pause=0.2)
    post = _refresh(post)
    assert post.status == PostStatus.PUBLISHED and post.publish_id == publish_id
    assert pulls.state.counters.requests_to(VIDEO_INIT) == 1


def test_public_links_show_one_file_and_expire(
    client: Any, settings: Any, workspace: Workspace, other_workspace: Workspace, make_media: Any
) -> None:
    mine = make_image(workspace, make_media(fmt="jpg"))
    theirs = make_image(other_workspace, make_media(fmt="jpg"))
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.later.test/public-media/"
    url = public_media_url(mine)
    path = url.replace("https://media.later.test", "")
    answer = client.get(path)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert b"".join(answer.streaming_content) == mine.file.open("rb").read()
    token = path.split("/")[2]
    assert client.get(f"/public-media/{token}/{theirs.pk}.jpg").status_code == 404
    assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert client.post(path).status_code == 405
    settings.MEDIA_PUBLIC_URL_TTL_SECONDS = -1
    assert client.get(path).status_code == 404  # expired


# ------------------------------------------------------------------ Business publishing


def _business_account(sim: Sim, workspace: Workspace) -> Any:
    return account_with_simulator_tokens(
        sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=BUSINESS_SCOPES,
        account_type=AccountType.BUSINESS,
    )


def test_business_public_video_uploads_when_no_https_media_base_is_set(
    pub_sim: Sim,
    workspace: Workspace,
    make_media: Callable[..., Path],
    eager: None,
    settings: Any,
) -> None:
    # A self-hosted install that never set an https MEDIA_PUBLIC_BASE_URL: TikTok could not pull
    # the file, so the Business account's public video goes through Content Posting's upload.
    settings.MEDIA_PUBLIC_BASE_URL = "http://127.0.0.1:8000/public-media/"
    account = _business_account(pub_sim, workspace)
    video = make_image(workspace, make_media(fmt="mp4"), "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    video.save()
    post = _publish(make_post(account, media=video, privacy_level="PUBLIC_TO_EVERYONE"))

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert post.publish_api == PublishApi.CONTENT_POSTING
    assert pub_sim.state.counters.requests_to(VIDEO_INIT) == 1
    assert pub_sim.state.counters.requests_to(f"{BIZ}/video/publish/") == 0


def test_business_video_publish_and_first_comment_in_conversations(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path], eager: None
) -> None:
    from conversations.models import Comment

    account = _business_account(pulls, workspace)
    video = make_image(workspace, make_media(fmt="mp4"), "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    video.save()
    post = make_post(
        account,
        media=video,
        privacy_level="PUBLIC_TO_EVERYONE",
        allow_comment=True,
        first_comment="Menu link in bio!",
    )
    post = _linked(_publish(post))

    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert post.publish_api == PublishApi.BUSINESS
    assert pulls.state.counters.requests_to(f"{BIZ}/video/publish/") == 1
    assert pulls.state.counters.requests_to(VIDEO_INIT) == 0
    assert post.tiktok_post_id
    assert post.first_comment_status == FirstCommentStatus.POSTED
    (ours,) = [c for c in pulls.state.comments.values() if c.owner]
    assert (ours.text, ours.video_id) == ("Menu link in bio!", post.tiktok_post_id)
    assert post.first_comment_id == ours.comment_id
    assert "first_comment" in _kinds(post)
    # Conversations picked it up through the comment signal (the sync ran).
    assert Comment.objects.for_workspace(workspace).filter(comment_id=ours.comment_id).exists()


def test_a_failing_first_comment_leaves_the_post_published(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path]
) -> None:
    account = _business_account(pulls, workspace)
    post = make_carousel(
        account,
        make_media,
        count=2,
        cover=0,
        privacy_level="PUBLIC_TO_EVERYONE",
        allow_comment=True,
        first_comment="First!",
    )
    pulls.app.faults.add(f"{BIZ}/comment/create/", "error_code", code=40002)
    post = _linked(_publish(post))
    assert post.publish_api == PublishApi.BUSINESS
    assert post.first_comment_status == FirstCommentStatus.PENDING  # queued for the task
    assert first_comment.post_first_comment_send(post_id=post.pk) == FirstCommentStatus.FAILED
    assert first_comment.post_first_comment_send(post_id=post.pk) is None  # claimed once

    post = _refresh(post)
    assert post.status == PostStatus.PUBLISHED and post.fail_code == ""
    assert post.first_comment_status == FirstCommentStatus.FAILED
    failed = post.events.get(kind="first_comment_failed")
    assert "TikTok said: 40002" in failed.message and "itself is published" in failed.message
    assert not [c for c in pulls.state.comments.values() if c.owner]
    assert reverse("publishing:post_publishing", args=[workspace.id, post.id])


def test_an_image_in_a_carousel_cannot_be_deleted(
    client_for: Any, editor: Any, workspace: Workspace, pub_sim: Sim, make_media: Any
) -> None:
    from calendar_app import services
    from later.errors import Conflict

    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_carousel(account, make_media, count=2, cover=0)
    inner = post.photos.get(position=1).media  # not the cover: only the carousel holds it
    with pytest.raises(Conflict, match="used by 1 post"):
        services.media_delete(workspace=workspace, media=inner)


def test_settings_page_says_which_url_to_verify(
    client_for: Any, owner: Any, workspace: Workspace, settings: Any
) -> None:
    url = reverse("accounts:workspace_settings", args=[workspace.id])
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.example.com/public-media/"
    page = client_for(owner).get(url).content.decode()
    assert "https://media.example.com/public-media/" in page and "media.example.com" in page
    assert "only pulls media over https" not in page
    settings.MEDIA_PUBLIC_BASE_URL = "http://127.0.0.1:8000/public-media/"
    assert "only pulls media over https" in client_for(owner).get(url).content.decode()


def test_a_lost_first_comment_message_is_queued_again(
    pub_sim: Sim, workspace: Workspace, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from calendar_app import tasks

    sent: list[str] = []
    monkeypatch.setattr(tasks.post_first_comment, "delay", sent.append)
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, status=PostStatus.PUBLISHED, first_comment="Hi")
    fresh = make_post(account, status=PostStatus.PUBLISHED, first_comment="Hi")
    old = timezone.now() - dt.timedelta(minutes=5)
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(
        first_comment_status=FirstCommentStatus.PENDING, tiktok_post_id="7", updated_at=old
    )
    Post.objects.for_workspace(workspace).filter(pk=fresh.pk).update(
        first_comment_status=FirstCommentStatus.PENDING, tiktok_post_id="8"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.posts_dispatch_tick()["first_comments"] == 1
    assert sent == [str(post.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.posts_dispatch_tick()["first_comments"] == 0  # not again at once


def _business_only_account(sim: Sim, workspace: Workspace) -> Any:
    """A Business account connected while only the Business app was configured: no Login Kit
    open_id, token or scopes (docs/tiktok-connect.md, "Business app only")."""
    account = _business_account(sim, workspace)
    account.open_id = ""
    account.scopes = []
    account.access_token_encrypted = b""
    account.refresh_token_encrypted = b""
    account.access_token_expires_at = account.refresh_token_expires_at = None
    account.save()
    return account


def test_business_only_account_publishes_through_the_business_api(
    pulls: Sim, workspace: Workspace, make_media: Callable[..., Path], eager: None
) -> None:
    account = _business_only_account(pulls, workspace)
    assert not account.login_kit_linked
    video = make_image(workspace, make_media(fmt="mp4"), "clip.mp4")
    video.kind, video.content_type = "video", "video/mp4"
    video.save()

    post = _linked(_publish(make_post(account, media=video, privacy_level="PUBLIC_TO_EVERYONE")))
    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert post.publish_api == PublishApi.BUSINESS
    assert pulls.state.counters.requests_to(f"{BIZ}/video/publish/") == 1
    assert pulls.state.counters.requests_to("/v2/post/publish/creator_info/query/") == 0

    # "Only me" needs Content Posting (Login Kit): refused with the reason, TikTok not asked.
    private = _publish(make_post(account, media=video, privacy_level="SELF_ONLY"))
    assert private.status == PostStatus.FAILED
    assert private.fail_code == "business_publish_public_only"
    assert "API for Business only" in private.fail_message
    assert pulls.state.counters.requests_to(VIDEO_INIT) == 0
    assert pulls.state.counters.requests_to(f"{BIZ}/video/publish/") == 1
