"""Synced TikTok comments and the per-video sync watermark."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Concat, Lower, Upper

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from later.models import TenantModel

#: TikTok's limit for a comment or reply, in characters.
REPLY_MAX_CHARS = 150
# One bulk request acts on at most this many comments (one page of the inbox is far fewer).
BULK_MAX_IDS = 100
PENDING_ID_PREFIX = "pending:"

# What Inbox search matches, as one upper-cased string; migration 0002 indexes exactly this
# expression with pg_trgm (Meta.indexes cannot: Django puts the opclass inside the parentheses).
SEARCH_DOCUMENT = Upper(
    Concat(
        "text",
        models.Value(" "),
        "author_username",
        models.Value(" "),
        "author_display_name",
        output_field=models.TextField(),
    )
)


def person_ref(author_key: str) -> str:
    """The product's URL id for a commenter. TikTok's identifier may hold "/", "?" or anything
    else, so it never appears raw in a path: the route carries this URL-safe encoding."""
    return base64.urlsafe_b64encode(author_key.encode()).decode().rstrip("=")


def person_key_from_ref(ref: str) -> str | None:
    """Inverse of `person_ref`; None when `ref` is not one the product made."""
    try:
        key = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not key or person_ref(key) != ref or "\x00" in key:
        return None
    return key


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class Priority(models.IntegerChoices):
    """The inbox's "what needs an answer first" order, kept by PostgreSQL (a generated column)."""

    UNANSWERED_QUESTION = 0, "Unanswered question"
    NEGATIVE = 1, "Negative"
    OTHER = 2, "Other"


PRIORITY_EXPRESSION = models.Case(
    models.When(
        models.Q(is_question=True, handled_at__isnull=True),
        then=models.Value(Priority.UNANSWERED_QUESTION.value),
    ),
    models.When(
        models.Q(sentiment_override=Sentiment.NEGATIVE)
        | models.Q(sentiment_override="", sentiment=Sentiment.NEGATIVE),
        then=models.Value(Priority.NEGATIVE.value),
    ),
    default=models.Value(Priority.OTHER.value),
    output_field=models.SmallIntegerField(),
)

# The Questions filter's order: unanswered ones first (0), then answered ones (1), newest first
# within each. The index below is built on this very expression, so the planner can use it.
QUESTION_RANK = models.Case(
    models.When(handled_at__isnull=True, then=models.Value(0)),
    default=models.Value(1),
    output_field=models.SmallIntegerField(),
)


class CommentKeys(models.Model):
    """A row that references comments carries each referenced comment's partition key
    (`created_at_tiktok`) beside its id: the comment table may be partitioned by month on that
    key (docs/scaling.md), and a foreign key into a partitioned table must name the whole
    key. Django has no composite foreign keys: the fields are `db_constraint=False` and
    migration 0006 adds the composite FOREIGN KEY constraints. The key is filled here from
    the referenced comment; bulk writes call `fill_comment_keys` themselves."""

    # Foreign key to a comment -> the field holding that comment's created_at_tiktok.
    comment_keys: ClassVar[dict[str, str]] = {}

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_comment_keys()
        super().save(*args, **kwargs)

    def fill_comment_keys(self) -> None:
        for relation, key in self.comment_keys.items():
            if getattr(self, f"{relation}_id") is None:
                setattr(self, key, None)
            elif getattr(self, key) is None or relation in self._state.fields_cache:
                setattr(self, key, getattr(self, relation).created_at_tiktok)


class Comment(CommentKeys, TenantModel):
    """One TikTok comment or reply on a video of a connected business account.

    Everything under "author" and `text` is written by strangers on the internet: it is
    stored verbatim and must only ever be rendered escaped.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="comments")
    video = models.ForeignKey(TikTokVideo, on_delete=models.CASCADE, related_name="comments")
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="comments")
    comment_id = models.CharField(max_length=128)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        db_constraint=False,  # composite: (parent_id, parent_created_at_tiktok), migration 0006
    )
    parent_created_at_tiktok = models.DateTimeField(null=True, blank=True, editable=False)
    author_key = models.CharField(max_length=128, help_text="TikTok's unique_identifier")
    author_username = models.CharField(max_length=128, blank=True)
    author_display_name = models.CharField(max_length=256, blank=True)
    author_avatar_url = models.URLField(max_length=2000, blank=True)
    text = models.TextField(blank=True)
    # The partition key (docs/scaling.md): TikTok's create time, never changed once stored (a
    # pending reply confirmed with TikTok's time is re-inserted: `comment_confirm_pending`).
    created_at_tiktok = models.DateTimeField()
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    is_own = models.BooleanField(default=False, help_text="Written by the business account")
    liked = models.BooleanField(default=False, help_text="Liked by the business account")
    read_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A reply we sent whose creation TikTok has not confirmed yet (comment_id is a placeholder).
    is_pending = models.BooleanField(default=False)
    pending_error = models.CharField(max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Team work: who answers it.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Triage, computed from the text (conversations/triage.py). The PostgreSQL sync stores a
    # comment first and reads it right after, in bulk (`triage_pending` until then: no
    # question, no sentiment, so no filter or priority claims anything about it yet).
    triage_pending = models.BooleanField(default=False)
    is_question = models.BooleanField(default=False)
    sentiment = models.CharField(
        max_length=8, choices=Sentiment.choices, default=Sentiment.NEUTRAL, blank=True
    )
    sentiment_score = models.FloatField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    # A person's correction; sync never writes it, so it outlives every re-analysis.
    sentiment_override = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    sentiment_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # On a thread root: when the account first answered in the thread, and who (None when the
    # answer was written in TikTok's own app).
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.GeneratedField(
        expression=PRIORITY_EXPRESSION, output_field=models.SmallIntegerField(), db_persist=True
    )

    class Meta:
        constraints: ClassVar = [
            # Every unique key holds the partition key; `conversations.ingest` upserts on this.
            models.UniqueConstraint(
                fields=["workspace", "comment_id", "created_at_tiktok"], name="comment_unique_id"
            ),
            # What the composite foreign keys reference (the partitioned table's primary key).
            models.UniqueConstraint(
                fields=["id", "created_at_tiktok"],
                name="conversations_comment_id_created_at_tiktok_uniq",
            ),
        ]
        indexes: ClassVar = [
            # The priority order: WHERE workspace = ? ORDER BY priority, created DESC, id DESC.
            models.Index(
                "workspace",
                "priority",
                models.F("created_at_tiktok").desc(),
                models.F("id").desc(),
                name="comment_priority_keyset",
                condition=models.Q(is_own=False, deleted_at__isnull=True),
            ),
            models.Index(
                "workspace",
                "assignee",
                models.F("created_at_tiktok").desc(),
                name="comment_assignee",
            ),
            # The priority order of one member's comments ("mine", a person): WHERE workspace = ?
            # AND assignee = ? ORDER BY priority, created DESC, id DESC. Without it the walk of
            # comment_priority_keyset reads every higher-ranked comment of the others first.
            models.Index(
                "workspace",
                "assignee",
                "priority",
                models.F("created_at_tiktok").desc(),
                models.F("id").desc(),
                name="comment_assignee_priority",
                condition=models.Q(assignee__isnull=False, is_own=False, deleted_at__isnull=True),
            ),
            # The Questions filter: WHERE workspace = ? AND is_question ORDER BY rank, created
            # DESC, id DESC (QUESTION_RANK: unanswered first).
            models.Index(
                "workspace",
                QUESTION_RANK,
                models.F("created_at_tiktok").desc(),
                models.F("id").desc(),
                name="comment_question_rank",
                condition=models.Q(is_question=True, is_own=False, deleted_at__isnull=True),
            ),
            # Inbox keyset pagination: WHERE workspace = ? AND (created, id) < (?, ?) ORDER BY
            # created DESC, id DESC.
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                models.F("id").desc(),
                name="comment_inbox_keyset",
            ),
            models.Index(
                "workspace",
                "account",
                models.F("created_at_tiktok").desc(),
                name="comment_account_keyset",
            ),
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                name="comment_unread_keyset",
                condition=models.Q(read_at__isnull=True, is_own=False, deleted_at__isnull=True),
            ),
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                name="comment_open_keyset",
                condition=models.Q(handled_at__isnull=True, is_own=False, deleted_at__isnull=True),
            ),
            models.Index(
                "workspace", "video", models.F("created_at_tiktok").desc(), name="comment_video"
            ),
            models.Index(
                "workspace",
                "author_key",
                models.F("created_at_tiktok").desc(),
                name="comment_author",
            ),
            models.Index("workspace", Lower("author_username"), name="comment_author_username"),
            # The triage sweep's backlog (rows whose follow-up task was lost); empty normally.
            models.Index(
                "created_at", name="comment_triage_pending", condition=models.Q(triage_pending=True)
            ),
        ]

    comment_keys: ClassVar[dict[str, str]] = {"parent": "parent_created_at_tiktok"}

    def __str__(self) -> str:
        return f"{self.author_username or self.author_key}: {self.text[:40]}"

    @property
    def person_ref(self) -> str:
        return person_ref(self.author_key)

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def author_label(self) -> str:
        return self.author_display_name or self.author_username or "TikTok user"

    @property
    def effective_sentiment(self) -> str:
        """A person's correction, else the detected sentiment; "" while not yet read."""
        if self.sentiment_override:
            return self.sentiment_override
        if self.triage_pending:
            return ""
        return self.sentiment or Sentiment.NEUTRAL

    @property
    def thread_root_id(self) -> uuid.UUID:
        return self.parent_id or self.pk

    @property
    def thread_root_created_at(self) -> dt.datetime:
        """The thread root's partition key (what a reference to `thread_root_id` names too)."""
        return self.parent_created_at_tiktok or self.created_at_tiktok

    @property
    def label_ids(self) -> set[uuid.UUID]:
        """Ids of the labels on this row (from the list selectors' prefetch)."""
        return {link.label_id for link in getattr(self, "labels_shown", ())}


class CommentSyncState(TenantModel):
    """Where the last comment sync of one video stopped, so the next one fetches only news."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="comment_sync_states"
    )
    video = models.OneToOneField(
        TikTokVideo, on_delete=models.CASCADE, related_name="comment_sync_state"
    )
    newest_seen_at = models.DateTimeField(null=True, blank=True)
    full_pass_at = models.DateTimeField(null=True, blank=True)
    # A pass cut short by the call budget resumes here instead of starting over.
    pass_cursor = models.BigIntegerField(null=True, blank=True)
    pass_is_full = models.BooleanField(default=False)
    pass_watermark = models.DateTimeField(null=True, blank=True)
    pass_newest_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"Comment sync of {self.video_id}"


class Label(TenantModel):
    """A workspace's tag for comments ("lead", "complaint", "UGC")."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    color = models.CharField(max_length=7, default="#6366f1")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="label_unique_name")
        ]
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class CommentLabel(CommentKeys, TenantModel):
    """One label on one comment, by a person or by a rule."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="comment_labels"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="label_links", db_constraint=False
    )
    comment_created_at_tiktok = models.DateTimeField(editable=False)
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="comment_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey(
        "ModerationRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    comment_keys: ClassVar[dict[str, str]] = {"comment": "comment_created_at_tiktok"}

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "comment", "label"], name="comment_label_unique"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["workspace", "label", "comment"], name="comment_label_by_label")
        ]

    def __str__(self) -> str:
        return f"{self.label_id} on {self.comment_id}"


class SavedReply(TenantModel):
    """A reply the team writes often. Placeholders: {name}, {username}, {account}."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="saved_replies")
    title = models.CharField(max_length=60)
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "saved replies"
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("title"), name="saved_reply_unique_title")
        ]
        ordering: ClassVar = ["title"]

    def __str__(self) -> str:
        return self.title


class ThreadNote(CommentKeys, TenantModel):
    """An internal note on a thread: seen by the workspace only, never sent to TikTok."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="thread_notes")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="notes", db_constraint=False
    )
    comment_created_at_tiktok = models.DateTimeField(editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    # Sent with the form: a double click or a retried request stores the note once.
    client_token = models.UUIDField(null=True, blank=True)

    comment_keys: ClassVar[dict[str, str]] = {"comment": "comment_created_at_tiktok"}

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "client_token"], name="thread_note_unique_token"
            )
        ]
        ordering: ClassVar = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40]


class RuleAction(models.TextChoices):
    HIDE = "hide", "Hide the comment"
    LABEL = "label", "Add a label"


class ModerationRule(TenantModel):
    """Hide or label comments that contain blocked words or links, or come from blocked
    commenters, as soon as they are synced."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="moderation_rules"
    )
    name = models.CharField(max_length=80)
    account = models.ForeignKey(
        TikTokAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moderation_rules",
        help_text="Empty: every account of the workspace",
    )
    action = models.CharField(max_length=8, choices=RuleAction.choices, default=RuleAction.HIDE)
    label = models.ForeignKey(
        Label, on_delete=models.CASCADE, null=True, blank=True, related_name="rules"
    )
    blocked_words = models.JSONField(default=list, blank=True)
    block_links = models.BooleanField(default=False)
    blocked_authors = models.JSONField(default=list, blank=True)
    is_enabled = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="moderation_rule_unique_name")
        ]
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleRunStatus(models.TextChoices):
    PENDING = "pending", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNDONE = "undone", "Undone"


class RuleRun(CommentKeys, TenantModel):
    """What a rule did to one comment: shown in the thread, with its undo."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="rule_runs")
    rule = models.ForeignKey(ModerationRule, on_delete=models.CASCADE, related_name="runs")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="rule_runs", db_constraint=False
    )
    comment_created_at_tiktok = models.DateTimeField(editable=False)
    action = models.CharField(max_length=8, choices=RuleAction.choices)
    status = models.CharField(max_length=8, choices=RuleRunStatus.choices)
    error = models.CharField(max_length=500, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    comment_keys: ClassVar[dict[str, str]] = {"comment": "comment_created_at_tiktok"}

    class Meta:
        constraints: ClassVar = [
            # A rule acts on a comment once: re-runs of the sync task are no-ops.
            models.UniqueConstraint(fields=["workspace", "rule", "comment"], name="rule_run_once")
        ]
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.action} {self.comment_id}: {self.status}"
