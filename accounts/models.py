"""Users, workspaces (the tenant), memberships, invitations, notifications and TikTok accounts."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.branding import DEFAULT_ACCENT_COLOR, DEFAULT_PRIMARY_COLOR
from later.models import BaseModel, TenantModel
from later.roles import Role, role_at_least
from later.tenancy import WorkspaceQuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an e-mail address. Belongs to workspaces via Membership."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The workspace opened last, where the next sign-in lands (if the person still reaches it).
    last_workspace = models.ForeignKey(
        "Workspace", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone (for example Europe/Paris).")


class Agency(BaseModel):
    """An organisation over client workspaces. Its members reach all of its clients or chosen
    ones (`AgencyMember`); a workspace without an agency is a freelancer's or a brand's own."""

    name = models.CharField(max_length=120)
    #: Branding its clients' reports carry unless a client saved its own (analytics'
    #: ReportSettings): a small PNG or JPEG checked with Pillow (accounts.branding), two colours.
    logo = models.BinaryField(blank=True, default=bytes, editable=True)
    logo_content_type = models.CharField(max_length=32, blank=True)
    primary_color = models.CharField(max_length=7, default=DEFAULT_PRIMARY_COLOR)
    accent_color = models.CharField(max_length=7, default=DEFAULT_ACCENT_COLOR)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Workspace(BaseModel):
    """The tenant: one per brand or agency client. Every tenant-owned row points here."""

    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    #: Posts by editors wait "in review" until an owner, admin or client review link approves.
    approval_required = models.BooleanField(default=False)
    #: Set once the first-run checklist is done (or dismissed); it is not shown again.
    checklist_done_at = models.DateTimeField(null=True, blank=True)
    #: The agency that owns this client workspace; None for a plain workspace.
    agency = models.ForeignKey(
        Agency, on_delete=models.SET_NULL, null=True, blank=True, related_name="clients"
    )

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(TenantModel):
    """A person's role in one workspace.

    `accounts.access.membership_resolve` also hands out unsaved instances for people who reach
    a client workspace through its agency: `via_agency` names the agency then (None for a row).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)

    via_agency: Agency | None = None

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def has_role(self, at_least: str) -> bool:
        return role_at_least(self.role, at_least)

    @property
    def can_edit(self) -> bool:
        return self.has_role(Role.EDITOR)

    @property
    def can_manage(self) -> bool:
        return self.has_role(Role.ADMIN)


class AgencyMember(BaseModel):
    """A person in an agency: `role` (the workspace roles) applies in every client they reach,
    which is all of the agency's clients (`all_clients`) or the chosen `clients`."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agency_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    all_clients = models.BooleanField(default=True)
    clients = models.ManyToManyField(Workspace, blank=True, related_name="agency_grants")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["agency", "user"], name="agency_member_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.agency} ({self.role})"

    def has_role(self, at_least: str) -> bool:
        return role_at_least(self.role, at_least)

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage the agency: its clients and who reaches them."""
        return self.has_role(Role.ADMIN)


class Invitation(TenantModel):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_unique_pending_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class Notification(TenantModel):
    """An in-app notice for one member (publishing failed, account needs reconnecting...)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=48)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "read_at", "-created_at"])]
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class AccountStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class AccountType(models.TextChoices):
    PERSONAL = "personal", "Personal"
    CREATOR = "creator", "Creator"
    BUSINESS = "business", "Business"


class BusinessStatus(models.TextChoices):
    """The account's link to the TikTok API for Business app (comments, insights, type)."""

    NONE = "", "Not linked"
    CONNECTED = "connected", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DECLINED = "declined", "Not granted"


class TikTokAccount(TenantModel):
    """A TikTok account connected to a workspace. Tokens are Fernet-encrypted (accounts.crypto).

    Two token sets, one per TikTok app: the Login Kit app (`access_token_*`, `scopes`, `status`:
    posting, profile, video list) and the API for Business app (`business_*`: comments and
    insights). `business_id` is the open_id TikTok issued to the Business app for this person.

    An account connected while only the Business app is configured has no Login Kit link: its
    `open_id` stays empty until the same TikTok user connects through Login Kit (matched by
    username, the only key both apps return; docs/tiktok-connect.md).
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="tiktok_accounts"
    )
    open_id = models.CharField(max_length=128, blank=True)
    union_id = models.CharField(max_length=128, blank=True)
    username = models.CharField(max_length=128, blank=True)
    display_name = models.CharField(max_length=256, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    account_type = models.CharField(
        max_length=16, choices=AccountType.choices, default=AccountType.PERSONAL
    )
    is_private = models.BooleanField(default=False)
    scopes = models.JSONField(default=list, blank=True)
    color = models.CharField(max_length=7, default="#7c3aed")
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.CONNECTED
    )
    status_reason = models.CharField(max_length=500, blank=True)
    access_token_encrypted = models.BinaryField(editable=False, default=bytes)
    refresh_token_encrypted = models.BinaryField(editable=False, default=bytes)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    follower_count = models.BigIntegerField(null=True, blank=True)
    business_id = models.CharField(max_length=128, blank=True)
    business_status = models.CharField(
        max_length=20, choices=BusinessStatus.choices, default=BusinessStatus.NONE, blank=True
    )
    business_status_reason = models.CharField(max_length=500, blank=True)
    business_scopes = models.JSONField(default=list, blank=True)
    business_access_token_encrypted = models.BinaryField(editable=False, default=bytes)
    business_refresh_token_encrypted = models.BinaryField(editable=False, default=bytes)
    business_access_token_expires_at = models.DateTimeField(null=True, blank=True)
    business_refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    business_token_refreshed_at = models.DateTimeField(null=True, blank=True)
    #: When the video list was last read from TikTok (by comment sync or analytics).
    videos_listed_at = models.DateTimeField(null=True, blank=True)
    #: No part of the account's comment sync (a video's comments, the video list) is due before
    #: this; it may be earlier than the true moment, never later (conversations.sync keeps it).
    comments_due_at = models.DateTimeField(default=timezone.now)

    # Comment sync's schedule: no page shows it, and it moves every minute.
    DATA_VERSION_QUIET_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"comments_due_at", "videos_listed_at", "updated_at"}
    )

    class Meta:
        verbose_name = "TikTok account"
        verbose_name_plural = "TikTok accounts"
        indexes: ClassVar = [
            # The comment sync fan-out's scan: only accounts that can sync are in it.
            models.Index(
                fields=["comments_due_at"],
                condition=models.Q(
                    account_type=AccountType.BUSINESS,
                    status=AccountStatus.CONNECTED,
                    business_status=BusinessStatus.CONNECTED,
                ),
                name="tiktok_account_comments_due",
            )
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "open_id"],
                condition=~models.Q(open_id=""),
                name="tiktok_account_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "business_id"],
                condition=~models.Q(business_id=""),
                name="tiktok_account_unique_business_id",
            ),
        ]
        ordering: ClassVar = ["display_name", "username"]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.display_name or self.open_id

    @property
    def handle(self) -> str:
        return f"@{self.username}" if self.username else self.display_name

    @property
    def is_business(self) -> bool:
        return self.account_type == AccountType.BUSINESS

    @property
    def needs_reconnect(self) -> bool:
        return self.status == AccountStatus.NEEDS_RECONNECT

    @property
    def login_kit_linked(self) -> bool:
        """The account was connected through the Login Kit app (Content Posting, drafts,
        Display); False for one connected while only the Business app was configured."""
        return bool(self.open_id)

    @property
    def business_connected(self) -> bool:
        return self.business_status == BusinessStatus.CONNECTED and bool(self.business_id)

    @property
    def account_type_reported(self) -> bool:
        """TikTok told us the account type: only `/business/get/` does (`is_business_account`,
        with the Business scope `user.account.type`); Login Kit cannot (fact sheet)."""
        return self.is_business or "user.account.type" in (self.business_scopes or [])

    @property
    def type_note(self) -> str:
        """What pages put after a non-Business account's handle: "personal" or "creator" when
        TikTok reported it, "type unknown" when it did not; "" for a Business account."""
        if self.is_business:
            return ""
        if not self.account_type_reported:
            return "type unknown"
        return str(self.get_account_type_display()).lower()

    def has_business_scope(self, scope: str) -> bool:
        """The Business app holds a usable token with `scope` granted."""
        return self.business_connected and scope in (self.business_scopes or [])


class TikTokVideo(TenantModel):
    """A video on a connected account as TikTok lists it (ours or posted elsewhere)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tiktok_videos")
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="videos")
    video_id = models.CharField(max_length=64)
    caption = models.TextField(blank=True)
    cover_image_url = models.URLField(max_length=2000, blank=True)
    share_url = models.URLField(max_length=1000, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    posted_at = models.DateTimeField(db_index=True)
    view_count = models.BigIntegerField(default=0)
    like_count = models.BigIntegerField(default=0)
    comment_count = models.BigIntegerField(default=0)
    share_count = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    comments_synced_at = models.DateTimeField(null=True, blank=True)
    #: When the comments are next due: a new video at once, then the poll interval of its age
    #: after each sync, at once again when TikTok's webhook says they changed
    #: (conversations.sync).
    comments_due_at = models.DateTimeField(default=timezone.now)

    DATA_VERSION_QUIET_FIELDS: ClassVar[frozenset[str]] = frozenset({"comments_due_at"})

    class Meta:
        verbose_name = "TikTok video"
        verbose_name_plural = "TikTok videos"
        indexes: ClassVar = [
            models.Index(fields=["account", "comments_due_at"], name="tiktok_video_comments_due")
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "account", "video_id"], name="tiktok_video_unique"
            )
        ]
        ordering: ClassVar = ["-posted_at"]

    def __str__(self) -> str:
        return self.caption[:60] or self.video_id


class TikTokOAuthState(TenantModel):
    """One pending "Connect TikTok" attempt: single use, short-lived, bound to user and session.

    Only digests of the state and the session key are stored; the PKCE verifier is encrypted.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    #: "login_kit" (the Connect button's first consent) or "business" (the one that follows).
    flow = models.CharField(max_length=16, default="login_kit")
    account = models.ForeignKey(
        TikTokAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    state_digest = models.CharField(max_length=64, unique=True)
    session_digest = models.CharField(max_length=64)
    code_verifier_encrypted = models.BinaryField(editable=False, default=bytes)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"TikTok connection attempt in {self.workspace_id}"

    class Meta:
        verbose_name = "TikTok OAuth state"
        verbose_name_plural = "TikTok OAuth states"


class ApiTokenAccess(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class ApiToken(BaseModel):
    """A personal API token: the API's only credential besides the browser session.

    Only a SHA-256 digest of the secret is stored (it is shown once, at creation). A token
    acts as its user, but only in the workspaces chosen for it and only as far as `access`
    allows; the user's role in each workspace still applies on top.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to tell it")
    digest = models.CharField(max_length=64, unique=True)
    access = models.CharField(max_length=16, choices=ApiTokenAccess.choices)
    workspaces = models.ManyToManyField(Workspace, related_name="+")
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    is_api_token = True  # what later.authentication.request_token recognises

    @property
    def can_write(self) -> bool:
        return self.access == ApiTokenAccess.READ_WRITE

    def reaches(self, workspace_id: object) -> bool:
        """Whether the token was made for this workspace (loaded with the token)."""
        return str(workspace_id) in {str(ws.pk) for ws in self.workspaces.all()}

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class TikTokWebhookEvent(BaseModel):
    """One webhook delivery from TikTok, kept to process each event once.

    Not a tenant row: an event names a TikTok user, who may be connected in several
    workspaces. Deliveries repeat (at least once): `digest` (of the app and raw body) is unique.
    """

    app = models.CharField(max_length=16)  # login_kit | business
    digest = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=80)
    user_openid = models.CharField(max_length=128, blank=True)
    #: When TikTok says the event happened (its `create_time`).
    occurred_at = models.DateTimeField(null=True, blank=True)
    content = models.JSONField(default=dict, blank=True)
    #: When the event was last handed to the broker: stored and queued on commit, or queued
    #: again by the sweep (accounts.tiktok.webhooks.webhook_events_requeue).
    queued_at = models.DateTimeField(default=timezone.now)
    #: A try in progress holds a lease: one killed half-way is offered again once it lapses.
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    #: Set when the event failed too often (or for good): no one tries it again.
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "TikTok webhook event"
        verbose_name_plural = "TikTok webhook events"
        indexes: ClassVar = [
            models.Index(fields=["user_openid", "event"]),
            # The sweep's scan: only events still waiting are in it.
            models.Index(
                fields=["queued_at"],
                condition=models.Q(processed_at__isnull=True, gave_up_at__isnull=True),
                name="webhook_event_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} for {self.user_openid}"
