"""Media library, posts and the publishing timeline."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from later.models import TenantModel


def media_upload_path(instance: MediaAsset, filename: str) -> str:
    # The stored name never reuses the uploader's file name: it is untrusted input.
    suffix = {"video": "mp4", "image": "jpg"}.get(instance.kind, "bin")
    if instance.content_type == "video/quicktime":
        suffix = "mov"
    elif instance.content_type == "video/webm":
        suffix = "webm"
    elif instance.content_type == "image/webp":
        suffix = "webp"
    return f"media/{instance.workspace_id}/{instance.id}.{suffix}"


def rendition_upload_path(instance: MediaAsset, filename: str) -> str:
    return f"media/{instance.workspace_id}/{instance.id}.tiktok.jpg"


class MediaKind(models.TextChoices):
    VIDEO = "video", "Video"
    IMAGE = "image", "Image"


class MediaAsset(TenantModel):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="media_assets")
    kind = models.CharField(max_length=8, choices=MediaKind.choices)
    file = models.FileField(upload_to=media_upload_path, max_length=500)
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=500, blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    # A photo over 1080p or with private EXIF (below) gets a TikTok-ready JPEG (renditions.py):
    # TikTok pulls it instead of the original, which the library keeps and shows.
    rendition = models.FileField(upload_to=rendition_upload_path, max_length=500, blank=True)
    rendition_width = models.PositiveIntegerField(null=True, blank=True)
    rendition_height = models.PositiveIntegerField(null=True, blank=True)
    rendition_size_bytes = models.BigIntegerField(null=True, blank=True)
    # A photo whose EXIF carries a location or a turn (orientation other than upright) gets a
    # rendition too, so TikTok never receives the phone's GPS position. Null: not read yet
    # (stored before this was read; renditions.media_rendition_ensure reads it when needed).
    private_exif = models.BooleanField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    # Waiting for an approver (workspace.approval_required); the dispatcher never claims it.
    IN_REVIEW = "in_review", "In review"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    SENT_TO_INBOX = "sent_to_inbox", "Sent to TikTok inbox"
    FAILED = "failed", "Failed"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    CANCELLED = "cancelled", "Cancelled"


class PostMode(models.TextChoices):
    DIRECT = "direct", "Publish directly"
    INBOX = "inbox", "Send to TikTok inbox as a draft"


class PublishApi(models.TextChoices):
    """Which TikTok API carries the post: Content Posting (Login Kit token) or the TikTok API
    for Business (Business token, PULL from a verified URL; fact sheet §4.4)."""

    CONTENT_POSTING = "content_posting", "Content Posting API"
    BUSINESS = "business", "TikTok API for Business"


class FirstCommentStatus(models.TextChoices):
    NONE = "", "None"
    PENDING = "pending", "Waiting for the post to be public"
    POSTING = "posting", "Posting"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"


class PrivacyLevel(models.TextChoices):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE", "Everyone"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS", "Friends"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR", "Followers"
    SELF_ONLY = "SELF_ONLY", "Only me"


class Post(TenantModel):
    """One TikTok post for one account. A multi-account post is several rows sharing group_id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="posts")
    group_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    media = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="posts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    # What the user planned (TikTok's post_info).
    post_mode = models.CharField(max_length=8, choices=PostMode.choices, default=PostMode.DIRECT)
    caption = models.TextField(blank=True)
    privacy_level = models.CharField(max_length=32, choices=PrivacyLevel.choices, blank=True)
    allow_comment = models.BooleanField(default=False)
    allow_duet = models.BooleanField(default=False)
    allow_stitch = models.BooleanField(default=False)
    commercial_content = models.BooleanField(default=False)
    brand_organic = models.BooleanField(default=False, help_text="Your brand")
    brand_content = models.BooleanField(default=False, help_text="Branded content")
    is_aigc = models.BooleanField(default=False)
    cover_timestamp_ms = models.PositiveIntegerField(null=True, blank=True)
    # Photo posts (fact sheet §2.5): the images are `photos` in order, `media` is the cover.
    title = models.CharField(max_length=90, blank=True)
    photo_cover_index = models.PositiveSmallIntegerField(default=0)
    auto_add_music = models.BooleanField(default=False)
    # Posted from the account through the Business comment API once the post is public.
    first_comment = models.CharField(max_length=150, blank=True)
    first_comment_status = models.CharField(
        max_length=8, choices=FirstCommentStatus.choices, blank=True
    )
    first_comment_id = models.CharField(max_length=64, blank=True)

    # When: UTC instant plus the wall-clock time and zone it was planned in.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    scheduled_local = models.CharField(max_length=32, blank=True)
    scheduled_tz = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT)
    needs_attention = models.CharField(max_length=300, blank=True)

    # Approval (calendar_app/approvals): who approved the current version, and the two
    # one-time deadline warnings of a post still in review (claimed by a conditional UPDATE).
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by_name = models.CharField(max_length=200, blank=True)
    review_warned_at = models.DateTimeField(null=True, blank=True)
    review_missed_at = models.DateTimeField(null=True, blank=True)

    # Publishing pipeline state; each step is persisted before the next one starts.
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    init_started_at = models.DateTimeField(null=True, blank=True)
    publish_api = models.CharField(
        max_length=16, choices=PublishApi.choices, default=PublishApi.CONTENT_POSTING
    )
    publish_id = models.CharField(max_length=64, blank=True)
    upload_url = models.CharField(max_length=512, blank=True)
    bytes_total = models.BigIntegerField(default=0)
    bytes_uploaded = models.BigIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_uploaded = models.PositiveIntegerField(default=0)
    tiktok_status = models.CharField(max_length=32, blank=True)
    tiktok_post_id = models.CharField(max_length=64, blank=True)
    tiktok_share_url = models.URLField(max_length=1000, blank=True)
    fail_code = models.CharField(max_length=64, blank=True)
    fail_message = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    video = models.ForeignKey(
        TikTokVideo, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )

    # The pipeline's leases and timers, which no page shows: a write of only these leaves the
    # pages' data version alone (later/data_version.py), and a run renews its lease every
    # few seconds.
    DATA_VERSION_QUIET_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"claim_token", "claimed_at", "heartbeat_at", "next_attempt_at", "updated_at"}
    )

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["workspace", "scheduled_at"], name="post_ws_scheduled"),
            models.Index(
                fields=["scheduled_at"],
                condition=models.Q(status="scheduled"),
                name="post_due",
            ),
            models.Index(fields=["status", "heartbeat_at"], name="post_status_heartbeat"),
        ]
        ordering: ClassVar = ["scheduled_at", "created_at"]

    def __str__(self) -> str:
        return self.caption[:60] or f"Post {self.id}"


class PostPhoto(TenantModel):
    """One image of a photo post, in the order TikTok shows them (at most 35, §2.5)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="post_photos")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="photos")
    media = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="post_photos")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering: ClassVar = ["position"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "post", "position"], name="post_photo_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id} #{self.position}"


class PostEvent(TenantModel):
    """The per-post timeline shown in the UI and the API (queued, uploading 2/5, failed ...)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="post_events")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class PostVersion(TenantModel):
    """A snapshot of what a post sends to TikTok (caption and `options`), taken when it changes."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="post_versions")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    caption = models.TextField(blank=True)
    # The post's settings at that version (who can view, interactions, labels, mode, media).
    options = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "post", "number"], name="post_version_unique_number"
            )
        ]
        ordering: ClassVar = ["post", "number"]

    def __str__(self) -> str:
        return f"Version {self.number} of {self.post_id}"


class PostCommentKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"


class PostComment(TenantModel):
    """An internal note on a post (team or client review link). Never sent to TikTok."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="post_comments")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="internal_comments")
    kind = models.CharField(
        max_length=20, choices=PostCommentKind.choices, default=PostCommentKind.COMMENT
    )
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    review_link = models.ForeignKey(
        "ReviewLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    version_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"


class ReviewLink(TenantModel):
    """A signed, expiring link that lets a client without an account review posts in review."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="review_links")
    name = models.CharField(max_length=120, help_text="Who the link is for, e.g. the client")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Review link for {self.name}"


class ActivityVerb(models.TextChoices):
    CREATED = "created", "created"
    EDITED = "edited", "edited"
    SUBMITTED = "submitted", "submitted for review"
    APPROVED = "approved", "approved"
    CHANGES_REQUESTED = "changes_requested", "requested changes to"
    COMMENTED = "commented", "commented on"
    RESCHEDULED = "rescheduled", "rescheduled"
    PUBLISHED = "published", "published"
    DELETED = "deleted", "deleted"
    SETTINGS = "settings", "changed the approval settings of"


class ActivityEntry(TenantModel):
    """Who did what to which post, and when: the workspace's activity log (append only)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=200)
    verb = models.CharField(max_length=20, choices=ActivityVerb.choices)
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="activity"
    )
    # What the entry is about, kept readable after the post is deleted.
    subject = models.CharField(max_length=200)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "activity entries"
        indexes: ClassVar = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="activity_ws_recent")
        ]
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_verb_display()} {self.subject}"


# --- the planner: notes, posting slots, templates, imports ------------------------------------


class CalendarNote(TenantModel):
    """A note on one calendar day (a campaign, a holiday) that everyone in the workspace sees."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="calendar_notes"
    )
    day = models.DateField()
    text = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["workspace", "day"], name="note_ws_day")]
        ordering: ClassVar = ["day", "created_at"]

    def __str__(self) -> str:
        return f"{self.day}: {self.text}"


class PostingSlot(TenantModel):
    """A weekly posting time of one account, as wall-clock time in the workspace's zone."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posting_slots")
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    time = models.TimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "account", "weekday", "time"], name="slot_unique"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="slot_weekday"),
        ]
        ordering: ClassVar = ["weekday", "time"]

    def __str__(self) -> str:
        return f"{self.account_id} {self.weekday} {self.time:%H:%M}"


class CaptionTemplate(TenantModel):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="caption_templates"
    )
    name = models.CharField(max_length=80)
    body = models.TextField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="caption_template_name")
        ]
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class HashtagGroup(TenantModel):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="hashtag_groups"
    )
    name = models.CharField(max_length=80)
    hashtags = models.TextField(help_text="Space-separated, each starting with #")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="hashtag_group_name")
        ]
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class PostImport(TenantModel):
    """A CSV import: previewed first (rows and their problems), then imported exactly once."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        IMPORTED = "imported", "Imported"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="post_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    rows = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PREVIEWED)
    acknowledge_warnings = models.BooleanField(default=False)
    result = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.file_name
