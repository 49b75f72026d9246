"""Moderation rules: hide or label comments with blocked words, links or commenters.

Rules act through the same services a person uses (hiding goes to TikTok's Business API), on
comments the sync just stored. Each (rule, comment) pair acts at most once: the `RuleRun` row
is claimed before TikTok is called, so a re-run of the task does nothing twice, and a person
can undo it from the thread.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from conversations import services
from conversations.models import (
    Comment,
    CommentLabel,
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    RuleRunStatus,
)
from later.errors import AppError, NotFound, ValidationFailed
from tiktok_client.client import TikTokClient

DRY_RUN_DAYS = 30
DRY_RUN_SAMPLE = 20
DRY_RUN_MAX_SCANNED = 20_000
MAX_TERMS = 200
# A link as people type them in comments: a scheme, "www.", or a domain with a common TLD.
TLDS = (
    "com|net|org|io|co|ly|me|app|shop|store|link|xyz|info|biz|gg|tv|to|us|uk|de|fr|es|it|ru|in|br"
)
# The SQL prefilter's spelling (PostgreSQL and SQLite regexes agree on this subset).
LINK_PATTERN = rf"(https?://|www\.|[a-z0-9-]+\.({TLDS})([^a-z0-9]|$))"
_LINK = re.compile(rf"(https?://|www\.|\b[a-z0-9-]+\.({TLDS})\b)", re.IGNORECASE)


@dataclass(frozen=True)
class RuleSpec:
    """A rule's conditions, saved or not yet saved (dry run)."""

    blocked_words: tuple[str, ...] = ()
    block_links: bool = False
    blocked_authors: tuple[str, ...] = ()
    account_id: uuid.UUID | None = None

    @classmethod
    def of(cls, rule: ModerationRule) -> RuleSpec:
        return cls(
            blocked_words=tuple(rule.blocked_words or ()),
            block_links=rule.block_links,
            blocked_authors=tuple(rule.blocked_authors or ()),
            account_id=rule.account_id,
        )

    def reason(self, comment: Comment) -> str | None:
        """Why the rule applies to the comment, or None."""
        text = comment.text.casefold()
        for word in self.blocked_words:
            if _word_in(word.casefold(), text):
                return f"contains “{word}”"
        if self.block_links and _LINK.search(comment.text):
            return "contains a link"
        authors = {a.casefold() for a in self.blocked_authors}
        if comment.author_username.casefold() in authors or comment.author_key in authors:
            return f"written by @{comment.author_username or comment.author_key}"
        return None

    def prefilter(self) -> Q:
        """A superset of the matches, in SQL, so a dry run does not read every comment."""
        q = Q(pk__in=[])
        for word in self.blocked_words:
            q |= Q(text__icontains=word)
        if self.block_links:
            q |= Q(text__iregex=LINK_PATTERN)
        if self.blocked_authors:
            for name in self.blocked_authors:
                q |= Q(author_username__iexact=name)
            q |= Q(author_key__in=self.blocked_authors)
        return q


def _word_in(word: str, text: str) -> bool:
    if not word:
        return False
    if not word.isascii():
        return word in text  # scripts without spaces between words
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text) is not None


def _terms(raw: Iterable[str] | str, *, what: str, strip_at: bool = False) -> list[str]:
    items = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    seen: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            raise ValidationFailed(f"Each {what} must be text.")
        term = item.strip()
        if strip_at:
            term = term.lstrip("@")
        if term and term.casefold() not in seen:
            if len(term) > 100:
                raise ValidationFailed(f"Keep each {what} under 100 characters.")
            seen[term.casefold()] = term
    if len(seen) > MAX_TERMS:
        raise ValidationFailed(f"A rule holds at most {MAX_TERMS} {what}s.")
    return list(seen.values())


@dataclass(frozen=True)
class RuleInput:
    name: str
    action: str = RuleAction.HIDE
    label: Label | None = None
    account: TikTokAccount | None = None
    blocked_words: list[str] = field(default_factory=list)
    block_links: bool = False
    blocked_authors: list[str] = field(default_factory=list)
    is_enabled: bool = False

    @classmethod
    def clean(
        cls,
        *,
        name: str,
        action: str,
        label: Label | None,
        account: TikTokAccount | None,
        blocked_words: Iterable[str] | str,
        block_links: bool,
        blocked_authors: Iterable[str] | str,
        is_enabled: bool,
    ) -> RuleInput:
        name = " ".join((name or "").split())
        if not name:
            raise ValidationFailed("Give the rule a name.")
        if len(name) > 80:
            raise ValidationFailed("Keep the rule's name under 80 characters.")
        if action not in RuleAction.values:
            raise ValidationFailed("A rule either hides the comment or adds a label.")
        if action == RuleAction.LABEL and label is None:
            raise ValidationFailed("Choose the label this rule adds.")
        words = _terms(blocked_words, what="blocked word")
        authors = _terms(blocked_authors, what="blocked commenter", strip_at=True)
        if not words and not authors and not block_links:
            raise ValidationFailed("Add a blocked word, a blocked commenter, or block links.")
        return cls(
            name=name,
            action=action,
            label=label if action == RuleAction.LABEL else None,
            account=account,
            blocked_words=words,
            block_links=block_links,
            blocked_authors=authors,
            is_enabled=is_enabled,
        )

    @property
    def spec(self) -> RuleSpec:
        return RuleSpec(
            blocked_words=tuple(self.blocked_words),
            block_links=self.block_links,
            blocked_authors=tuple(self.blocked_authors),
            account_id=self.account.pk if self.account else None,
        )


def _name_taken(workspace: Workspace, name: str, exclude: uuid.UUID | None = None) -> bool:
    qs = (
        ModerationRule.objects.for_workspace(workspace)
        .annotate(lower=Lower("name"))
        .filter(lower=name.lower())
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def _apply_input(rule: ModerationRule, data: RuleInput) -> None:
    rule.name = data.name
    rule.action = data.action
    rule.label = data.label
    rule.account = data.account
    rule.blocked_words = data.blocked_words
    rule.block_links = data.block_links
    rule.blocked_authors = data.blocked_authors
    rule.is_enabled = data.is_enabled


def moderation_rule_create(
    *, workspace: Workspace, data: RuleInput, user: User | None
) -> ModerationRule:
    """Idempotent on the name: the same rule submitted twice is stored once."""
    scoped = ModerationRule.objects.for_workspace(workspace)
    existing = scoped.annotate(lower=Lower("name")).filter(lower=data.name.lower()).first()
    if existing is not None:
        if RuleSpec.of(existing) == data.spec and existing.action == data.action:
            return existing
        raise ValidationFailed(f"A rule called “{existing.name}” already exists.")
    rule = ModerationRule(workspace=workspace, created_by=user)
    _apply_input(rule, data)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        return scoped.annotate(lower=Lower("name")).get(lower=data.name.lower())
    return rule


def moderation_rule_update(*, rule: ModerationRule, data: RuleInput) -> ModerationRule:
    if _name_taken(rule.workspace, data.name, exclude=rule.pk):
        raise ValidationFailed(f"A rule called “{data.name}” already exists.")
    _apply_input(rule, data)
    rule.save()
    return rule


def moderation_rule_get(*, workspace: Workspace, rule_id: uuid.UUID | str) -> ModerationRule:
    try:
        return (
            ModerationRule.objects.for_workspace(workspace)
            .select_related("label", "account")
            .get(pk=rule_id)
        )
    except (ModerationRule.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This rule does not exist in this workspace.") from exc


# --------------------------------------------------------------------------- dry run


@dataclass
class DryRun:
    matched: int = 0
    scanned: int = 0
    already_hidden: int = 0
    samples: list[tuple[Comment, str]] = field(default_factory=list)
    truncated: bool = False


def moderation_rule_dry_run(
    *, workspace: Workspace, spec: RuleSpec, now: dt.datetime | None = None
) -> DryRun:
    """What the rule would have done to the last 30 days of fans' comments. Writes nothing."""
    since = (now or timezone.now()) - dt.timedelta(days=DRY_RUN_DAYS)
    qs = Comment.objects.for_workspace(workspace).filter(
        spec.prefilter(), is_own=False, deleted_at__isnull=True, created_at_tiktok__gte=since
    )
    if spec.account_id:
        qs = qs.filter(account_id=spec.account_id)
    result = DryRun()
    rows = qs.select_related("video", "account").order_by("-created_at_tiktok")
    for comment in rows[:DRY_RUN_MAX_SCANNED]:
        result.scanned += 1
        reason = spec.reason(comment)
        if reason is None:
            continue
        result.matched += 1
        result.already_hidden += comment.is_hidden
        if len(result.samples) < DRY_RUN_SAMPLE:
            result.samples.append((comment, reason))
    result.truncated = result.scanned >= DRY_RUN_MAX_SCANNED
    return result


# --------------------------------------------------------------------------- running rules


def _rules_for(workspace: Workspace) -> list[ModerationRule]:
    return list(
        ModerationRule.objects.for_workspace(workspace)
        .filter(is_enabled=True)
        .select_related("label")
        .order_by("created_at")
    )


def _claim(*, rule: ModerationRule, comment: Comment) -> RuleRun | None:
    """The run row, committed before TikTok is called; None when this pair already ran."""
    try:
        with transaction.atomic():
            return RuleRun.objects.create(
                workspace_id=comment.workspace_id,
                rule=rule,
                comment=comment,
                action=rule.action,
                status=RuleRunStatus.PENDING,
            )
    except IntegrityError:
        return None


def _act(*, rule: ModerationRule, comment: Comment, client: TikTokClient | None) -> None:
    if rule.action == RuleAction.HIDE:
        if not comment.is_hidden:
            services.comment_set_hidden(comment=comment, hidden=True, client=client)
        return
    assert rule.label is not None
    CommentLabel.objects.bulk_create(
        [
            CommentLabel(
                workspace_id=comment.workspace_id,
                comment=comment,
                comment_created_at_tiktok=comment.created_at_tiktok,
                label=rule.label,
                rule=rule,
            )
        ],
        ignore_conflicts=True,
    )


def moderation_rules_apply(
    *,
    workspace: Workspace,
    comment_ids: Sequence[uuid.UUID | str],
    client: TikTokClient | None = None,
) -> list[RuleRun]:
    """Run the workspace's enabled rules on these comments (fans' comments only)."""
    rules = _rules_for(workspace)
    if not rules or not comment_ids:
        return []
    comments = list(
        Comment.objects.for_workspace(workspace)
        .filter(pk__in=list(comment_ids), is_own=False, deleted_at__isnull=True, is_pending=False)
        .select_related("account", "video")
    )
    runs: list[RuleRun] = []
    for comment in comments:
        for rule in rules:
            spec = RuleSpec.of(rule)
            if spec.account_id and spec.account_id != comment.account_id:
                continue
            if spec.reason(comment) is None:
                continue
            run = _claim(rule=rule, comment=comment)
            if run is None:
                continue
            try:
                _act(rule=rule, comment=comment, client=client)
            except AppError as exc:
                run.status, run.error = RuleRunStatus.FAILED, exc.message[:500]
            else:
                run.status = RuleRunStatus.DONE
            run.save(update_fields=["status", "error", "updated_at"])
            runs.append(run)
            if rule.action == RuleAction.HIDE and run.status == RuleRunStatus.DONE:
                break  # hidden: later hide rules have nothing left to do
    return runs


def rule_run_get(*, workspace: Workspace, run_id: uuid.UUID | str) -> RuleRun:
    try:
        return (
            RuleRun.objects.for_workspace(workspace)
            .select_related("rule", "rule__label", "comment", "comment__account", "comment__video")
            .get(pk=run_id)
        )
    except (RuleRun.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This automatic action does not exist in this workspace.") from exc


def rule_run_undo(
    *, run: RuleRun, user: User | None, client: TikTokClient | None = None
) -> RuleRun:
    """Reverse what the rule did (unhide on TikTok, or take the label off). Undoing twice
    changes nothing; the rule will not act on this comment again."""
    if run.status == RuleRunStatus.UNDONE:
        return run
    if run.status != RuleRunStatus.DONE:
        raise ValidationFailed("Only an action that succeeded can be undone.")
    comment = run.comment
    if run.action == RuleAction.HIDE:
        if comment.is_hidden:
            services.comment_set_hidden(comment=comment, hidden=False, user=user, client=client)
    else:
        CommentLabel.objects.for_workspace(run.workspace_id).filter(
            comment=comment, rule=run.rule
        ).delete()
    run.status = RuleRunStatus.UNDONE
    run.undone_at = timezone.now()
    run.undone_by = user
    run.save(update_fields=["status", "undone_at", "undone_by", "updated_at"])
    return run
