"""Bulk scheduling: one draft per dropped file, and CSV imports previewed row by row before
anything is created. Both go through the composer's services (`services.post_create`), so
TikTok's caps, the pending-draft limit and the clock-change questions apply unchanged.

A CSV import is all or nothing per row: the preview runs every row through `post_create` inside
a transaction that is rolled back (so rows see each other, as they will for real: the fifth
inbox draft of the day is refused in the preview too); confirming runs them again for real and
each row either becomes a post or is reported with its reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from calendar_app import services
from calendar_app.creators import creator_info_fetch
from calendar_app.models import MediaAsset, Post, PostImport, PostMode, PrivacyLevel
from calendar_app.timezones import clock_time
from later.errors import AppError, Conflict, NotFound, Problems, ValidationFailed
from tiktok_client.schemas import CreatorInfo

MAX_FILES_PER_DROP = 50
MAX_IMPORT_ROWS = 500
MAX_IMPORT_BYTES = 1_000_000
DROP_TIME = time(12, 0)

COLUMNS = ("account", "date", "time", "caption", "privacy", "toggles", "media")
_ALIASES = {
    "media file name": "media",
    "media_file_name": "media",
    "media file": "media",
    "file": "media",
    "file name": "media",
    "filename": "media",
    "interactions": "toggles",
    "who can view": "privacy",
    "occurrence": "dst",
    "post mode": "mode",
}
_PRIVACY = {
    "public": PrivacyLevel.PUBLIC_TO_EVERYONE,
    "everyone": PrivacyLevel.PUBLIC_TO_EVERYONE,
    "friends": PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
    "mutual friends": PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
    "followers": PrivacyLevel.FOLLOWER_OF_CREATOR,
    "only me": PrivacyLevel.SELF_ONLY,
    "private": PrivacyLevel.SELF_ONLY,
    **{p.value.lower(): p.value for p in PrivacyLevel},
}
_TOGGLES = {
    "comment": "allow_comment",
    "comments": "allow_comment",
    "duet": "allow_duet",
    "stitch": "allow_stitch",
    "ai": "is_aigc",
    "aigc": "is_aigc",
    "your_brand": "brand_organic",
    "your brand": "brand_organic",
    "branded_content": "brand_content",
    "branded content": "brand_content",
}


class ImportAlreadyDone(Conflict):
    code = "import_already_done"


# --- one draft per dropped file ---------------------------------------------------------------


def drafts_from_media(
    *,
    workspace: Workspace,
    user: User | None,
    media_ids: Sequence[Any],
    account_id: Any,
    day: date | None = None,
) -> list[Post]:
    """One draft per file, in the order given, for one account (on `day` at 12:00 if given).
    All of them or none."""
    if not media_ids:
        raise ValidationFailed("Drop at least one file.", code="no_media")
    if len(media_ids) > MAX_FILES_PER_DROP:
        raise ValidationFailed(
            f"Drop at most {MAX_FILES_PER_DROP} files at once.", code="too_many_files"
        )
    if len({str(m) for m in media_ids}) != len(media_ids):
        raise ValidationFailed("A file appears twice in the drop.", code="duplicate_media")
    posts: list[Post] = []
    with transaction.atomic():
        for media_id in media_ids:
            posts += services.post_create(
                workspace=workspace,
                user=user,
                content=services.PostContent(
                    media_id=media_id,
                    scheduled_local=datetime.combine(day, DROP_TIME) if day else None,
                    scheduled_tz=workspace.time_zone,
                ),
                targets=[services.PostTarget(account_id=account_id)],
                schedule=False,
            )
    return posts


# --- CSV import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    line: int
    status: str  # "ok" (becomes a post), "error" (reported, nothing created)
    message: str = ""
    code: str = ""
    post_id: str = ""
    summary: str = ""
    reasons: tuple[str, ...] = ()  # every reason of a refused row, one sentence each

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "status": self.status,
            "message": self.message,
            "code": self.code,
            "post_id": self.post_id,
            "summary": self.summary,
            "reasons": list(self.reasons),
        }


def _header(name: str) -> str:
    key = " ".join(name.strip().lower().replace("-", " ").split())
    return _ALIASES.get(key, key.replace(" ", "_"))


def import_parse(content: bytes) -> list[dict[str, Any]]:
    """The CSV's rows as {line, values}; refuses what cannot be read at all."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.", code="csv_too_large"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The file is not UTF-8 text; export it as “CSV UTF-8”.", code="csv_not_utf8"
        ) from None
    if "\x00" in text:
        raise ValidationFailed("This is not a CSV file.", code="csv_unreadable")
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            raise ValidationFailed("The file is empty.", code="csv_empty")
        names = [_header(h) for h in header]
        missing = [c for c in ("account",) if c not in names]
        if missing:
            raise ValidationFailed(
                "The first row must name the columns: account, date, time, caption, privacy, "
                "toggles, media (missing: account).",
                code="csv_columns",
            )
        rows: list[dict[str, Any]] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ValidationFailed(
                    f"Import at most {MAX_IMPORT_ROWS} rows at once.", code="csv_too_many_rows"
                )
            row = {n: (values[i].strip() if i < len(values) else "") for i, n in enumerate(names)}
            rows.append({"line": reader.line_num, "values": row})
    except csv.Error as exc:
        raise ValidationFailed(f"The CSV cannot be read: {exc}.", code="csv_unreadable") from None
    if not rows:
        raise ValidationFailed("The file has no rows under its header.", code="csv_empty")
    return rows


@dataclass(frozen=True)
class _Lookup:
    accounts: Mapping[str, TikTokAccount]
    media: Mapping[str, list[MediaAsset]]


def _lookup(workspace: Workspace) -> _Lookup:
    accounts: dict[str, TikTokAccount] = {}
    for account in TikTokAccount.objects.for_workspace(workspace):
        for key in (
            str(account.id),
            account.username,
            f"@{account.username}",
            account.display_name,
        ):
            if key:
                accounts.setdefault(key.lower(), account)
    media: dict[str, list[MediaAsset]] = {}
    for asset in MediaAsset.objects.for_workspace(workspace).order_by("-created_at"):
        media.setdefault(asset.original_name.lower(), []).append(asset)
    return _Lookup(accounts=accounts, media=media)


def _fail(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code)


def _row_request(
    values: Mapping[str, str], lookup: _Lookup, workspace: Workspace
) -> tuple[services.PostContent, services.PostTarget, bool, TikTokAccount]:
    """A row as the composer's content and target; raises everything wrong with it at once
    (what the row's cells say and, for what could be read, the composer's rules)."""
    problems = Problems()
    name = values.get("account", "")
    account = lookup.accounts.get(name.lower()) if name else None
    if account is None:
        problems.add(
            _fail(
                f"No connected account “{name}” in this workspace."
                if name
                else "Name the account.",
                "account_not_found",
            ),
            "account",
        )
    media_id = None
    media_name = values.get("media", "")
    if media_name:
        found = lookup.media.get(media_name.lower(), [])
        if not found:
            problems.add(
                _fail(f"No file named “{media_name}” in the media library.", "media_not_found"),
                "media",
            )
        elif len(found) > 1:
            problems.add(
                _fail(
                    f"{len(found)} files in the library are named “{media_name}”; rename one.",
                    "media_ambiguous",
                ),
                "media",
            )
        else:
            media_id = found[0].id
    raw_day, raw_time = values.get("date", ""), values.get("time", "")
    local = None
    if bool(raw_day) != bool(raw_time):
        problems.add(
            _fail("Give both a date and a time, or neither for a draft.", "time_incomplete"),
            "date",
        )
    elif raw_day:
        try:
            local = datetime.combine(date.fromisoformat(raw_day), clock_time(raw_time))
        except ValueError:
            problems.add(
                _fail(
                    f"“{raw_day} {raw_time}” is not a date and time like 2026-12-01 and 14:30.",
                    "invalid_datetime",
                ),
                "date",
            )
    dst = values.get("dst", "").lower()
    fold = {"first": 0, "second": 1, "": None}.get(dst, -1)
    if fold == -1:
        problems.add(_fail("The dst column takes “first” or “second”.", "invalid_dst"), "dst")
        fold = None
    privacy_raw = values.get("privacy", "")
    privacy = _PRIVACY.get(privacy_raw.lower(), "") if privacy_raw else ""
    if privacy_raw and not privacy:
        problems.add(
            _fail(
                f"“{privacy_raw}” is not a privacy level (everyone, friends, followers, only me).",
                "invalid_privacy_level",
            ),
            "privacy",
        )
    flags: dict[str, bool] = {}
    for token in values.get("toggles", "").replace(";", ",").replace("|", ",").split(","):
        key = token.strip().lower()
        if not key:
            continue
        if key not in _TOGGLES:
            problems.add(
                _fail(
                    f"“{token.strip()}” is not a toggle (comment, duet, stitch, ai, your_brand, "
                    "branded_content).",
                    "invalid_toggle",
                ),
                "toggles",
            )
            continue
        flags[_TOGGLES[key]] = True
    mode = values.get("mode", "").lower() or PostMode.DIRECT
    if mode not in PostMode.values:
        problems.add(
            _fail("The mode column takes “direct” or “inbox”.", "invalid_post_mode"), "mode"
        )
        mode = PostMode.DIRECT
    commercial = bool(flags.get("brand_organic") or flags.get("brand_content"))
    content = services.PostContent(
        caption=values.get("caption", ""),
        media_id=media_id,
        post_mode=mode,
        commercial_content=commercial,
        brand_organic=flags.get("brand_organic", False),
        brand_content=flags.get("brand_content", False),
        is_aigc=flags.get("is_aigc", False),
        scheduled_local=local,
        scheduled_tz=workspace.time_zone,
        fold=fold,
    )
    target = services.PostTarget(
        account_id=account.id if account else None,
        privacy_level=privacy,
        allow_comment=flags.get("allow_comment", False),
        allow_duet=flags.get("allow_duet", False),
        allow_stitch=flags.get("allow_stitch", False),
    )
    if problems:
        _add_rule_problems(problems, workspace, content, target, schedule=bool(raw_day))
        problems.raise_any()
    assert account is not None
    return content, target, local is not None, account


# The CSV column a rule's field is written in (its reasons are not repeated under both).
_COLUMNS = {
    "targets": "account",
    "media_id": "media",
    "scheduled_local": "date",
    "scheduled_tz": "date",
    "privacy_level": "privacy",
    "post_mode": "mode",
}


def _add_rule_problems(
    problems: Problems,
    workspace: Workspace,
    content: services.PostContent,
    target: services.PostTarget,
    *,
    schedule: bool,
) -> None:
    """The composer's rules on what the row's readable cells say, so a row reports every
    reason at once; a column already refused is not reported twice."""
    refused = {p.field for e in problems.errors for p in e.problems}
    found = services.post_problems(
        workspace=workspace,
        content=content,
        targets=[target] if target.account_id else [],
        schedule=schedule and content.scheduled_local is not None,
    )
    for error in found:
        if all(_COLUMNS.get(p.field, p.field) in refused for p in error.problems):
            continue
        problems.add(error)


def _creator_infos(
    rows: Sequence[Mapping[str, Any]], lookup: _Lookup, workspace: Workspace
) -> tuple[dict[str, CreatorInfo], dict[str, AppError]]:
    """Live creator_info of each account a direct row schedules to, asked before any
    transaction opens; an account TikTok refuses is reported on its rows."""
    infos: dict[str, CreatorInfo] = {}
    failures: dict[str, AppError] = {}
    for row in rows:
        try:
            content, _target, schedule, account = _row_request(row["values"], lookup, workspace)
        except AppError:
            continue
        key = str(account.id)
        if not schedule or content.post_mode != PostMode.DIRECT or key in infos or key in failures:
            continue
        if not account.login_kit_linked:
            continue  # creator_info is Content Posting's; a Business-only account has none
        try:
            infos[key] = creator_info_fetch(account=account)
        except AppError as exc:
            failures[key] = exc
    return infos, failures


class _Rollback(Exception):
    pass


def _run_rows(
    *,
    workspace: Workspace,
    user: User | None,
    rows: Sequence[Mapping[str, Any]],
    acknowledge_warnings: bool,
    lookup: _Lookup,
    infos: Mapping[str, CreatorInfo],
    failures: Mapping[str, AppError],
    now: datetime | None,
) -> list[Outcome]:
    """Each row through post_create in its own savepoint, in file order; the caller's
    transaction decides whether the created rows stay."""
    outcomes = []
    for row in rows:
        line = int(row["line"])
        try:
            content, target, schedule, account = _row_request(row["values"], lookup, workspace)
            if str(account.id) in failures and schedule:
                raise failures[str(account.id)]
            with transaction.atomic():
                (post,) = services.post_create(
                    workspace=workspace,
                    user=user,
                    content=content,
                    targets=[target],
                    schedule=schedule,
                    acknowledge_warnings=acknowledge_warnings,
                    creator_infos=infos,
                    now=now,
                )
        except AppError as exc:
            reasons = (
                tuple(p.message for p in exc.problems)
                if isinstance(exc, ValidationFailed)
                else (exc.message,)
            )
            outcomes.append(
                Outcome(
                    line=line, status="error", message=exc.message, code=exc.code, reasons=reasons
                )
            )
            continue
        when = (
            timezone.localtime(post.scheduled_at, workspace.tz).strftime("%a %-d %b %Y, %H:%M")
            if post.scheduled_at
            else "unscheduled"
        )
        outcomes.append(
            Outcome(
                line=line,
                status="ok",
                post_id=str(post.id),
                summary=f"{post.get_status_display()} for {account} · {when}",
            )
        )
    return outcomes


def import_preview(
    *,
    workspace: Workspace,
    user: User | None,
    file_name: str,
    content: bytes,
    acknowledge_warnings: bool = False,
    now: datetime | None = None,
) -> PostImport:
    """Read the CSV and say, row by row, what importing it would do. Creates no post."""
    rows = import_parse(content)
    lookup = _lookup(workspace)
    infos, failures = _creator_infos(rows, lookup, workspace)
    outcomes: list[Outcome] = []
    try:
        with transaction.atomic():
            outcomes = _run_rows(
                workspace=workspace,
                user=user,
                rows=rows,
                acknowledge_warnings=acknowledge_warnings,
                lookup=lookup,
                infos=infos,
                failures=failures,
                now=now,
            )
            raise _Rollback
    except _Rollback:
        pass
    return PostImport.objects.create(
        workspace=workspace,
        created_by=user,
        file_name=(file_name or "import.csv")[:255],
        rows=rows,
        acknowledge_warnings=acknowledge_warnings,
        result=[o.as_dict() | {"post_id": ""} for o in outcomes],
    )


def import_confirm(
    *, workspace: Workspace, user: User | None, post_import: PostImport, now: datetime | None = None
) -> PostImport:
    """Create the previewed rows, exactly once: every row becomes a post or is reported."""
    if post_import.state == PostImport.State.IMPORTED:
        return post_import
    lookup = _lookup(workspace)
    infos, failures = _creator_infos(post_import.rows, lookup, workspace)
    with transaction.atomic():
        locked = (
            PostImport.objects.for_workspace(workspace)
            .select_for_update()
            .filter(pk=post_import.pk)
            .first()
        )
        if locked is None:
            raise NotFound("Import not found.")
        if locked.state == PostImport.State.IMPORTED:
            return locked  # a repeat (double click, retried request) creates nothing
        outcomes = _run_rows(
            workspace=workspace,
            user=user,
            rows=locked.rows,
            acknowledge_warnings=locked.acknowledge_warnings,
            lookup=lookup,
            infos=infos,
            failures=failures,
            now=now,
        )
        locked.result = [o.as_dict() for o in outcomes]
        locked.state = PostImport.State.IMPORTED
        locked.imported_at = timezone.now()
        locked.save(update_fields=["result", "state", "imported_at", "updated_at"])
    return locked


def import_get(*, workspace: Workspace, import_id: Any) -> PostImport:
    try:
        return PostImport.objects.for_workspace(workspace).get(pk=import_id)
    except (PostImport.DoesNotExist, ValueError) as exc:
        raise NotFound("Import not found.") from exc


def import_counts(post_import: PostImport) -> dict[str, int]:
    ok = sum(1 for r in post_import.result if r["status"] == "ok")
    return {"ok": ok, "error": len(post_import.result) - ok, "rows": len(post_import.result)}
