"""TikTok webhooks: verify, record once, process later (polling stays the fallback).

TikTok signs each delivery with `TikTok-Signature: t=<unix>,s=<hex>`, an HMAC-SHA256 under the
app's secret of `t + "." + raw body` (fact sheet §2.8). One Business library signs `t + body`
without the dot [U], so the Business endpoint accepts either form. Deliveries are at least
once and may repeat or arrive out of order: each is stored under a digest of its body (a
repeat is dropped), and processing never trusts the order. Publish events make the pipeline
ask TikTok for the post's status now; a revoked authorization only counts when it is newer
than the tokens we hold; a comment event schedules a sync of that video's comments.
An event whose message never reached a worker is queued again by a periodic sweep; one that
keeps failing is given up after MAX_PROCESSING_ATTEMPTS tries, with its error, in the admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, TikTokWebhookEvent
from accounts.tiktok import signals
from accounts.tiktok.access import (
    BUSINESS,
    LOGIN_KIT,
    TokenSlot,
    get_tiktok_client,
    tiktok_account_mark_needs_reconnect,
)
from later.celery import app as celery_app
from later.retries import retry_pending_ids
from tiktok_client.schemas import storable_json

logger = logging.getLogger(__name__)

PROCESS_TASK = "accounts.tasks.process_tiktok_webhook"
#: Deliveries whose signature is older (or further in the future) than this are refused.
SIGNATURE_MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
#: Tries of one event before it is given up (the first, then the task's parked retries or
#: the sweep); accounts.tasks.WEBHOOK_RETRY allows one fewer retry, so both end together.
MAX_PROCESSING_ATTEMPTS = 6
#: The sweep leaves an event this long after it was queued: the normal path is not raced.
SWEEP_GRACE = dt.timedelta(minutes=2)
SWEEP_BATCH = 200
#: A try outlives no task's hard time limit, so a lapsed lease is never a live try.
CLAIM_LEASE = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)

#: `authorization.removed` reasons (§2.8), as the user will read them.
REMOVAL_REASONS = {
    1: "The account owner removed this app's access in TikTok.",
    2: "The TikTok account was deleted.",
    3: "TikTok withdrew access after the account holder's age changed.",
    4: "The TikTok account was banned.",
    5: "This app's access was revoked.",
}


class WebhookRefused(Exception):
    """The delivery is not from TikTok (bad or stale signature, wrong app, malformed)."""


@dataclass(frozen=True)
class WebhookApp:
    slot: TokenSlot
    client_key: str
    secret: str
    allow_undotted: bool


def webhook_app(name: str) -> WebhookApp | None:
    config = get_tiktok_client().config
    if name == BUSINESS.name:
        if not config.business_configured:
            return None
        return WebhookApp(BUSINESS, config.business_app_id, config.business_app_secret, True)
    if not config.login_kit_configured:
        return None
    return WebhookApp(LOGIN_KIT, config.client_key, config.client_secret, False)


_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def _signature_parts(header: str) -> tuple[int, str]:
    parts = dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item.strip())
    # Shapes checked first: a 400-digit timestamp overflows the age check's float, and
    # compare_digest raises on non-ASCII text.
    timestamp, signature = parts.get("t", ""), parts.get("s", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _HEX_DIGEST.fullmatch(signature):
        raise WebhookRefused("malformed TikTok-Signature header")
    return int(timestamp), signature


def verify_signature(
    *, app: WebhookApp, header: str, body: bytes, now: float | None = None
) -> None:
    """Raise WebhookRefused unless `header` signs `body` under the app's secret, recently."""
    timestamp, signature = _signature_parts(header)
    if abs((now if now is not None else time.time()) - timestamp) > SIGNATURE_MAX_AGE_SECONDS:
        raise WebhookRefused("stale TikTok-Signature timestamp")
    key = app.secret.encode()
    payloads = [str(timestamp).encode() + b"." + body]
    if app.allow_undotted:
        payloads.append(str(timestamp).encode() + body)
    for payload in payloads:
        expected = hmac.new(key, payload, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature):
            return
    raise WebhookRefused("TikTok-Signature does not match")


def _content(raw: Any) -> dict[str, Any]:
    # `content` is a JSON string inside the JSON body (§2.8); tolerate an object too.
    if isinstance(raw, str):
        try:
            raw = storable_json(json.loads(raw))
        except (ValueError, RecursionError):
            return {}
    return raw if isinstance(raw, dict) else {}


def webhook_receive(*, app: WebhookApp, header: str, body: bytes) -> TikTokWebhookEvent | None:
    """Verify and record one delivery; returns the new event, or None for a repeat.

    Processing is queued on commit, so TikTok gets its 200 at once.
    """
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused("body too large")
    verify_signature(app=app, header=header, body=body)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise WebhookRefused("body is not JSON") from exc
    if not isinstance(payload, dict) or str(payload.get("client_key", "")) != app.client_key:
        raise WebhookRefused("event for another app")
    # Signed by TikTok yet still odd: NUL characters and lone surrogates no column takes are
    # dropped, a create_time no datetime holds is unknown; the event itself is kept.
    payload = storable_json(payload)
    occurred_at = _occurred_at(payload.get("create_time"))
    digest = hashlib.sha256(app.slot.name.encode() + b"\0" + body).hexdigest()
    with transaction.atomic():
        event, created = TikTokWebhookEvent.objects.get_or_create(
            digest=digest,
            defaults={
                "app": app.slot.name,
                "event": str(payload.get("event", ""))[:80],
                "user_openid": str(payload.get("user_openid", ""))[:128],
                "occurred_at": occurred_at,
                "content": _content(payload.get("content")),
            },
        )
        if created:
            # Robust: a broker that is down must not turn TikTok's 200 into a 500 (TikTok's
            # repeat would then be dropped as known); the sweep queues the stored event.
            transaction.on_commit(lambda: _enqueue(event.pk), robust=True)
    return event if created else None


def _occurred_at(create_time: Any) -> dt.datetime | None:
    if not isinstance(create_time, int | float) or isinstance(create_time, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(create_time, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _enqueue(event_id: Any) -> None:
    # By name from the registry: accounts.tiktok sits below accounts.tasks (import contract).
    # Celery discovers task modules lazily, when a worker starts: a web process that has not
    # imported accounts.tasks yet has no such task until the discovery is run here.
    if PROCESS_TASK not in celery_app.tasks:
        celery_app.loader.import_default_modules()
    celery_app.tasks[PROCESS_TASK].delay(event_id=str(event_id))


def _claim(event_id: Any, *, now: dt.datetime) -> TikTokWebhookEvent | None:
    claimed = (
        TikTokWebhookEvent.objects.filter(
            pk=event_id,
            processed_at__isnull=True,
            gave_up_at__isnull=True,
            attempts__lt=MAX_PROCESSING_ATTEMPTS,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    return TikTokWebhookEvent.objects.get(pk=event_id) if claimed else None


def webhook_event_process(*, event_id: Any) -> bool:
    """Apply one recorded event exactly once; False when it was already processed, is being
    processed, or was given up."""
    now = timezone.now()
    event = _claim(event_id, now=now)
    if event is None:
        return False
    try:
        _apply(event)
    except Exception as exc:
        # Release the claim for the next try (the task's parked retry, or the sweep), unless
        # this was the last one allowed.
        TikTokWebhookEvent.objects.filter(pk=event.pk).update(
            claimed_at=None,
            last_error=_error_text(exc),
            gave_up_at=timezone.now() if event.attempts >= MAX_PROCESSING_ATTEMPTS else None,
        )
        raise
    TikTokWebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=timezone.now(), claimed_at=None, last_error=""
    )
    return True


def webhook_event_give_up(*, event_id: Any, error: object) -> None:
    """The event failed in a way no retry mends: stop here, visibly (admin lists it)."""
    TikTokWebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).update(
        claimed_at=None, gave_up_at=timezone.now(), last_error=_error_text(error)
    )


def _error_text(error: object) -> str:
    return (str(error) or type(error).__name__)[:500]


def webhook_events_requeue(
    *, now: dt.datetime | None = None, limit: int = SWEEP_BATCH
) -> dict[str, int]:
    """Beat: queue again the events stored but never applied: their message was lost (the
    broker was down, the web process died after the commit) or their try was killed.

    Leaves alone events queued within SWEEP_GRACE, tries still within their lease and events
    whose retry is parked (later.retries sends those). Safe beside the normal path and a second
    sweep: the claim in `webhook_event_process` lets one try apply an event.
    """
    at = now or timezone.now()
    parked = retry_pending_ids(PROCESS_TASK)
    with transaction.atomic():
        rows = list(
            TikTokWebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(processed_at__isnull=True, gave_up_at__isnull=True)
            .filter(queued_at__lte=at - SWEEP_GRACE)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=at - CLAIM_LEASE))
            .exclude(pk__in=parked)
            .order_by("queued_at")
            .only("pk", "attempts")[:limit]
        )
        # Only a try killed on its last allowed attempt gets here spent.
        spent = [row.pk for row in rows if row.attempts >= MAX_PROCESSING_ATTEMPTS]
        queued = [row.pk for row in rows if row.attempts < MAX_PROCESSING_ATTEMPTS]
        TikTokWebhookEvent.objects.filter(pk__in=spent).update(
            claimed_at=None, gave_up_at=at, last_error="No answer from the last try."
        )
        TikTokWebhookEvent.objects.filter(pk__in=queued).update(queued_at=at)

        def send() -> None:
            for event_id in queued:
                _enqueue(event_id)

        transaction.on_commit(send)
    if spent:
        logger.warning("tiktok webhook: gave up %d events whose last try died", len(spent))
    return {"queued": len(queued), "gave_up": len(spent)}


def _accounts_of(event: TikTokWebhookEvent) -> list[TikTokAccount]:
    if not event.user_openid:
        return []
    # A TikTok user may be connected in several workspaces: the event concerns them all.
    rows = TikTokAccount.objects.unscoped().select_related("workspace")
    if event.app == BUSINESS.name:
        return list(rows.filter(business_id=event.user_openid))
    return list(rows.filter(open_id=event.user_openid))


def _apply(event: TikTokWebhookEvent) -> None:
    name = event.event
    if name == "authorization.removed":
        _authorization_removed(event)
    elif name.startswith("post.publish.") and event.app == LOGIN_KIT.name:
        publish_id = str(event.content.get("publish_id", ""))
        if publish_id:
            signals.publish_event.send(
                sender=TikTokWebhookEvent,
                open_id=event.user_openid,
                publish_id=publish_id,
                event=name,
            )
    elif name == "comment.update" and event.app == BUSINESS.name:
        video_id = str(event.content.get("video_id", ""))
        if not video_id:
            return
        for account in _accounts_of(event):
            if account.status == AccountStatus.CONNECTED and account.business_connected:
                signals.comment_event.send(
                    sender=TikTokWebhookEvent,
                    account=account,
                    video_id=video_id,
                    comment_id=str(event.content.get("comment_id", "")),
                )
    else:
        logger.info("tiktok webhook %s ignored", name)


def _authorization_removed(event: TikTokWebhookEvent) -> None:
    slot = BUSINESS if event.app == BUSINESS.name else LOGIN_KIT
    reason_code = event.content.get("reason")
    reason = REMOVAL_REASONS.get(
        reason_code if isinstance(reason_code, int) else -1,
        "TikTok reported that this app's access was removed.",
    )
    for account in _accounts_of(event):
        issued = slot.get(account, "token_refreshed_at")
        # A late delivery about an older grant must not break the connection made since
        # (`create_time` has whole seconds, hence the margin).
        if event.occurred_at and issued and issued > event.occurred_at + dt.timedelta(seconds=1):
            continue
        tiktok_account_mark_needs_reconnect(
            account=account, reason=reason, business=slot is BUSINESS
        )
