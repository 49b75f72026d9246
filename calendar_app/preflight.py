"""What TikTok would refuse in a post, in one place: the composer checks it before saving and
the pipeline checks it again just before init (the creator may have changed settings since).

Per-account settings TikTok no longer offers are refused outright; account and content
problems are errors; TikTok's daily caps are warnings the user may confirm past.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accounts.models import TikTokAccount, Workspace
from accounts.tiktok.access import tiktok_config
from accounts.tiktok.url_properties import url_property
from calendar_app.models import MediaAsset, MediaKind, Post, PostMode, PostStatus, PrivacyLevel
from tiktok_client.schemas import CreatorInfo

DAILY_DIRECT_POST_CAP = 15
PENDING_INBOX_DRAFT_CAP = 5
_DIRECT_COUNTED = (
    PostStatus.SCHEDULED,
    PostStatus.QUEUED,
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.UNCONFIRMED,
)
_INBOX_COUNTED = (
    PostStatus.SCHEDULED,
    PostStatus.QUEUED,
    PostStatus.PUBLISHING,
    PostStatus.SENT_TO_INBOX,
)


@dataclass(frozen=True)
class Refusal:
    """One reason TikTok would refuse the post for this account."""

    code: str
    message: str  # names the account
    fix: str  # what the user does about it
    setting: str = ""  # the per-account setting refused, if it is one

    @property
    def sentence(self) -> str:
        return f"{self.message} {self.fix}"


@dataclass
class Preflight:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def content_refusals(
    *,
    account: TikTokAccount | str,
    privacy_level: str,
    commercial_content: bool,
    brand_organic: bool,
    brand_content: bool,
    scheduling: bool = True,
) -> list[Refusal]:
    """A direct post's own settings against TikTok's rules for every creator (fact sheet §2.3,
    §2.10): the audience has no default, a commercial disclosure says what it discloses, and
    branded content cannot be private. A draft (`scheduling=False`) may choose its audience
    later. Inbox drafts carry none of these settings: the creator sets them in the app."""
    refusals = []
    if commercial_content and not (brand_organic or brand_content):
        # Shared by every account of a post: the composer shows it once, without the account.
        refusals.append(
            Refusal(
                code="commercial_content_incomplete",
                message="You turned on commercial content disclosure but ticked nothing.",
                fix="Tick “Your brand”, “Branded content” or both.",
                setting="commercial_content",
            )
        )
    if commercial_content and brand_content and privacy_level == PrivacyLevel.SELF_ONLY:
        refusals.append(
            Refusal(
                code="branded_private",
                message=f"{account}: branded content visibility cannot be set to private.",
                fix="Pick another audience, or untick “Branded content”.",
                setting="privacy_level",
            )
        )
    if scheduling and not privacy_level:
        refusals.append(
            Refusal(
                code="privacy_required",
                message=f"{account}: choose who can view this post (TikTok has no default).",
                fix="Pick an audience.",
                setting="privacy_level",
            )
        )
    return refusals


def business_only_refusals(
    *, account: TikTokAccount, post_mode: str, media: MediaAsset | None, privacy_level: str
) -> list[Refusal]:
    """What an account connected through the TikTok API for Business only cannot post: it
    has no Login Kit token, so only Business publishing is open (fact sheet §4.4: direct
    posts, pulled from our public https links; a video takes no privacy level, so it goes
    public)."""
    if account.login_kit_linked:
        return []
    why = f"{account} is connected through the TikTok API for Business only"
    add_login_kit = (
        "add the Login Kit app to it (Reconnect on the Accounts page)"
        if tiktok_config().login_kit_configured
        else "ask the administrator to set up the TikTok Login Kit app"
    )
    if post_mode != PostMode.DIRECT:
        return [
            Refusal(
                code="inbox_needs_login_kit",
                message=f"{why}; sending a draft to the TikTok inbox needs the Login Kit app.",
                fix=f"Choose “Publish directly”, or {add_login_kit}.",
            )
        ]
    if not account.is_business:
        return [
            Refusal(
                code="business_publish_needs_business_account",
                message=f"{why}, and TikTok reports it as a personal account: publishing "
                "through the API for Business is for Business accounts.",
                fix=f"Switch it to a Business account in the TikTok app and reconnect, or "
                f"{add_login_kit}.",
            )
        ]
    if not account.has_business_scope("video.publish"):
        return [
            Refusal(
                code="business_publish_not_granted",
                message=f"{why}, without the publishing permission (video.publish).",
                fix="Reconnect it and keep the publishing permission ticked.",
            )
        ]
    if media is None or media.kind != MediaKind.VIDEO:
        return []
    refusals = []
    if privacy_level and privacy_level != PrivacyLevel.PUBLIC_TO_EVERYONE:
        refusals.append(
            Refusal(
                code="business_publish_public_only",
                message=f"{why}, which publishes videos to everyone.",
                fix=f"Pick “{PrivacyLevel.PUBLIC_TO_EVERYONE.label}”, or {add_login_kit}.",
                setting="privacy_level",
            )
        )
    problem = url_property().problem
    if problem:
        refusals.append(
            Refusal(
                code="public_media_not_https",
                message=f"{why}, and TikTok pulls its videos from this site. {problem}",
                fix=f"Ask the administrator to set it, or {add_login_kit}.",
            )
        )
    return refusals


def post_content_refusal(post: Post) -> Refusal | None:
    """The first of `content_refusals` for a stored post (the pipeline's check before init: the
    row may have been changed since the composer saw it)."""
    if post.post_mode != PostMode.DIRECT:
        return None
    refusals = content_refusals(
        account=post.account,
        privacy_level=post.privacy_level,
        commercial_content=post.commercial_content,
        brand_organic=post.brand_organic,
        brand_content=post.brand_content,
    )
    return refusals[0] if refusals else None


def creator_refusals(
    *,
    account: TikTokAccount | str,
    info: CreatorInfo,
    privacy_level: str,
    allow_comment: bool,
    allow_duet: bool,
    allow_stitch: bool,
    media: MediaAsset | None,
) -> list[Refusal]:
    """The post's settings and video checked against the creator's live creator_info."""
    refusals = []
    if privacy_level and privacy_level not in info.privacy_level_options:
        label = PrivacyLevel(privacy_level).label if privacy_level in PrivacyLevel.values else ""
        offered = ", ".join(info.privacy_level_options) or "none"
        refusals.append(
            Refusal(
                code="privacy_not_offered",
                message=(
                    f"The audience “{label or privacy_level}” isn't available for {account} "
                    f"(TikTok offers: {offered})."
                ),
                fix="Pick another audience.",
                setting="privacy_level",
            )
        )
    for setting, wanted, disabled, word, box in (
        ("allow_comment", allow_comment, info.comment_disabled, "comments", "Allow comments"),
        ("allow_duet", allow_duet, info.duet_disabled, "Duet", "Allow Duet"),
        ("allow_stitch", allow_stitch, info.stitch_disabled, "Stitch", "Allow Stitch"),
    ):
        if wanted and disabled:
            refusals.append(
                Refusal(
                    code="interaction_disabled",
                    message=f"{account} has turned {word} off in TikTok.",
                    fix=f"Untick “{box}”, or turn {word} back on in TikTok.",
                    setting=setting,
                )
            )
    duration = media.duration_seconds if media and media.kind == MediaKind.VIDEO else None
    if duration and duration > info.max_video_post_duration_sec:
        refusals.append(
            Refusal(
                code="video_too_long",
                message=(
                    f"This video is {duration:.0f} s long; {account} can post videos of at "
                    f"most {info.max_video_post_duration_sec} s."
                ),
                fix="Trim the video.",
            )
        )
    return refusals


def post_creator_refusal(post: Post, info: CreatorInfo) -> Refusal | None:
    """The first reason TikTok would refuse a stored post today (the pipeline's last check)."""
    refusals = creator_refusals(
        account=post.account,
        info=info,
        privacy_level=post.privacy_level,
        allow_comment=post.allow_comment,
        allow_duet=post.allow_duet,
        allow_stitch=post.allow_stitch,
        media=post.media,
    )
    return refusals[0] if refusals else None


def _count_window(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    mode: str,
    statuses: Sequence[str],
    start: datetime,
    end: datetime,
    exclude: Iterable[Any],
) -> int:
    return (
        Post.objects.for_workspace(workspace)
        .filter(account=account, post_mode=mode, status__in=statuses)
        .filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .exclude(pk__in=list(exclude))
        .count()
    )


def post_preflight(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    media: MediaAsset | None,
    post_mode: str,
    scheduled_at: datetime | None,
    creator_info: CreatorInfo | None,
    exclude_post_ids: Iterable[Any] = (),
) -> Preflight:
    """What TikTok would refuse later about the account and the content, checked now: hard
    errors and confirmable warnings. (Refused per-account settings are the composer's.)"""
    result = Preflight()
    exclude = list(exclude_post_ids)
    if account.needs_reconnect:
        result.errors.append(f"{account} needs to be reconnected before it can post.")
    if creator_info is not None:
        result.errors.extend(
            r.message
            for r in creator_refusals(
                account=account,
                info=creator_info,
                privacy_level="",
                allow_comment=False,
                allow_duet=False,
                allow_stitch=False,
                media=media,
            )
        )
    if scheduled_at is not None:
        warning = (
            _direct_cap_warning(workspace, account, scheduled_at, exclude)
            if post_mode == PostMode.DIRECT
            else _inbox_cap_warning(workspace, account, scheduled_at, exclude)
        )
        if warning:
            result.warnings.append(warning)
    return result


def _direct_cap_warning(
    workspace: Workspace, account: TikTokAccount, scheduled_at: datetime, exclude: list[Any]
) -> str:
    day = timedelta(hours=24)
    counts = [
        _count_window(
            workspace=workspace,
            account=account,
            mode=PostMode.DIRECT,
            statuses=_DIRECT_COUNTED,
            start=start,
            end=start + day,
            exclude=exclude,
        )
        for start in (scheduled_at - day + timedelta(seconds=1), scheduled_at)
    ]
    if max(counts) < DAILY_DIRECT_POST_CAP:
        return ""
    return (
        f"{account} already has {max(counts)} direct posts within 24 hours of this "
        f"time; TikTok allows about {DAILY_DIRECT_POST_CAP} a day and will likely "
        "refuse this one."
    )


def _inbox_cap_warning(
    workspace: Workspace, account: TikTokAccount, scheduled_at: datetime, exclude: list[Any]
) -> str:
    day = timedelta(hours=24)
    pending = _count_window(
        workspace=workspace,
        account=account,
        mode=PostMode.INBOX,
        statuses=_INBOX_COUNTED,
        start=scheduled_at - day,
        end=scheduled_at + day,
        exclude=exclude,
    )
    if pending < PENDING_INBOX_DRAFT_CAP:
        return ""
    return (
        f"{account} already has {pending} drafts waiting in the TikTok inbox around "
        f"this time; TikTok allows {PENDING_INBOX_DRAFT_CAP} pending drafts and will "
        "refuse more until the creator posts or discards some."
    )
