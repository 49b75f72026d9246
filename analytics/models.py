"""Daily snapshots of profile and video metrics.

TikTok mostly returns lifetime counters, so history is ours to build: one row per account per
day, and per video one row per hour for its first two days, then one per day. A missing row
is a missing measurement; nothing downstream invents it.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from accounts.branding import DEFAULT_ACCENT_COLOR, DEFAULT_PRIMARY_COLOR
from accounts.models import TikTokAccount, TikTokVideo, Workspace
from later.models import TenantModel


class SnapshotSource(models.TextChoices):
    CAPTURE = "capture", "Captured by us"
    BUSINESS = "business", "TikTok Business daily metrics"


class AccountDailySnapshot(TenantModel):
    """One account on one day (the workspace's local date for captures, TikTok's for metrics)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="account_snapshots"
    )
    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, related_name="daily_snapshots"
    )
    date = models.DateField()
    source = models.CharField(
        max_length=16, choices=SnapshotSource.choices, default=SnapshotSource.CAPTURE
    )
    captured_at = models.DateTimeField(null=True, blank=True)

    # Lifetime profile counters at capture time (Display API user.info.stats or business/get).
    followers = models.BigIntegerField(null=True, blank=True)
    following = models.BigIntegerField(null=True, blank=True)
    likes_total = models.BigIntegerField(null=True, blank=True)
    video_count = models.BigIntegerField(null=True, blank=True)
    # Sum of view counters over the synced videos; lets personal accounts get daily views.
    video_views_total = models.BigIntegerField(null=True, blank=True)

    # Activity on that day. Business daily metrics when TikTok has them; for other accounts
    # the difference of lifetime counters against the previous day's row, if that row exists.
    video_views = models.BigIntegerField(null=True, blank=True)
    profile_views = models.BigIntegerField(null=True, blank=True)
    likes = models.BigIntegerField(null=True, blank=True)
    comments = models.BigIntegerField(null=True, blank=True)
    shares = models.BigIntegerField(null=True, blank=True)
    reach = models.BigIntegerField(null=True, blank=True)
    engaged_audience = models.BigIntegerField(null=True, blank=True)
    new_followers = models.BigIntegerField(null=True, blank=True)
    lost_followers = models.BigIntegerField(null=True, blank=True)
    # TikTok's `daily_total_followers`: the day's net change (new minus lost), not a total.
    net_followers = models.BigIntegerField(null=True, blank=True)
    audience = models.JSONField(default=dict, blank=True)
    #: Business `audience_activity` for that day: 24 counts indexed by hour (UTC, like the
    #: metrics' dates; TikTok sends [{"hour", "count"}]). Feeds the best-time-to-post heatmap.
    audience_activity = models.JSONField(default=list, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "account", "date"], name="account_daily_snapshot_unique"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["account", "date"])]
        ordering: ClassVar = ["account", "date"]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.date}"


class VideoSnapshot(TenantModel):
    """A video's counters at one moment; `bucket_at` (hour or local day) makes re-runs upsert."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="video_snapshots"
    )
    video = models.ForeignKey(TikTokVideo, on_delete=models.CASCADE, related_name="snapshots")
    bucket_at = models.DateTimeField()
    captured_at = models.DateTimeField()
    date = models.DateField()
    views = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(default=0)
    comments = models.BigIntegerField(default=0)
    shares = models.BigIntegerField(default=0)
    reach = models.BigIntegerField(null=True, blank=True)
    average_time_watched = models.FloatField(null=True, blank=True)
    full_video_watched_rate = models.FloatField(null=True, blank=True)
    impression_sources = models.JSONField(default=dict, blank=True)
    # Business `/business/video/list/` insights (None / empty: TikTok did not report them).
    total_time_watched = models.FloatField(null=True, blank=True)
    new_followers = models.BigIntegerField(null=True, blank=True)
    #: [[second, percentage], ...] from `video_view_retention`: share of viewers still watching.
    retention = models.JSONField(default=list, blank=True)
    #: `audience_types` as {type: percentage}: NEW_VIEWER, RETURN_VIEWER, FOLLOWER_PERCENT, ...
    audience_types = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "video", "bucket_at"], name="video_snapshot_unique"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["video", "captured_at"])]
        ordering: ClassVar = ["video", "captured_at"]

    def __str__(self) -> str:
        return f"{self.video_id} at {self.captured_at:%Y-%m-%d %H:%M}"


class VideoViews24h(TenantModel):
    """A video's views at 24 h, stored when the snapshot that settles it is written.

    The same reading as the posts table's "Views at 24 h" (the first snapshot 24-27 h after
    publishing; `analytics.services.video_views_24h_settle`), kept so the best-time heatmap
    reads one row per video, in order, instead of probing each video's snapshots. No row: we
    took no snapshot in that window, and nothing estimates one.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    video = models.ForeignKey(TikTokVideo, on_delete=models.CASCADE, related_name="+")
    #: Copied from the video (TikTok's create_time, which never changes) for the heatmap.
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="+")
    posted_at = models.DateTimeField()
    #: The settling snapshot's time and its view counter.
    captured_at = models.DateTimeField()
    views = models.BigIntegerField()

    class Meta:
        verbose_name = "video views in 24 h"
        verbose_name_plural = "video views in 24 h"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "video"], name="video_views_24h_unique")
        ]
        indexes: ClassVar = [models.Index(fields=["workspace", "account", "posted_at"])]

    def __str__(self) -> str:
        return f"{self.video_id}: {self.views} views at 24 h"


class ReportSettings(TenantModel):
    """A workspace's own branding on its client reports (one row per workspace), overriding
    its agency's (`Agency.logo`, colours); `analytics.reports.report_settings_get` decides."""

    #: Not a column: "workspace" for a saved row; "agency" or "default" for the unsaved rows
    #: report_settings_get builds when the workspace has none.
    source = "workspace"

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="report_settings"
    )
    agency_name = models.CharField(max_length=120, blank=True)
    #: A small PNG or JPEG, checked with Pillow; embedded in the page, the PDF and the e-mail.
    logo = models.BinaryField(blank=True, default=bytes, editable=True)
    logo_content_type = models.CharField(max_length=32, blank=True)
    primary_color = models.CharField(max_length=7, default=DEFAULT_PRIMARY_COLOR)
    accent_color = models.CharField(max_length=7, default=DEFAULT_ACCENT_COLOR)

    def __str__(self) -> str:
        return f"Report settings of {self.workspace_id}"

    class Meta:
        verbose_name = "report settings"
        verbose_name_plural = "report settings"


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (Monday to Sunday)"
    MONTHLY = "monthly", "Monthly (calendar month)"


class ReportSchedule(TenantModel):
    """Send the report of each finished week or month to the client's addresses."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="report_schedules"
    )
    frequency = models.CharField(max_length=8, choices=ReportFrequency.choices)
    recipients = models.JSONField(default=list)
    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(default=True)
    #: The first period sent is the first one that ends after this moment.
    starts_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["created_at"]

    def __str__(self) -> str:
        return f"{self.frequency} report to {', '.join(self.recipients)}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, will retry"
    GAVE_UP = "gave_up", "Failed"


class ReportDelivery(TenantModel):
    """One period of one schedule. The row is claimed before anything is sent, and its
    uniqueness is what makes a period go out once, whatever restarts in between."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="report_deliveries"
    )
    schedule = models.ForeignKey(
        ReportSchedule, on_delete=models.CASCADE, related_name="deliveries"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "report deliveries"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "schedule", "period_start"], name="report_delivery_once"
            )
        ]
        ordering: ClassVar = ["-period_start"]

    def __str__(self) -> str:
        return f"{self.schedule_id} for {self.period_start}"
