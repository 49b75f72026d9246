"""TikTok webhooks: verify, record once, process later (polling stays the fallback).

TikTok signs each delivery with `TikTok-Signature: t=<unix>,s=<hex>`, an HMAC-SHA256 under the
app's secret of `t + "." + raw body` (fact sheet §2.8). One Business library signs `t + body`
without the dot [U], so the Business endpoint accepts either form. Deliveries are at least
once and may repeat or arrive out of order: each is stored under a digest of its body (a
repeat is dropped), and processing never trusts the order. Publish events make the pipeline
ask TikTok for the post's status now; a revoked authorization only counts when it is newer
than the tokens we hold; a comment event schedules a sync of that video's comments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
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

logger = logging.getLogger(__name__)

PROCESS_TASK = "accounts.tasks.process_tiktok_webhook"
#: Deliveries whose signature is older (or further in the future) than this are refused.
SIGNATURE_MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024

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


def _signature_parts(header: str) -> tuple[int, str]:
    parts = dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item.strip())
    try:
        return int(parts["t"]), parts["s"]
    except (KeyError, ValueError) as exc:
        raise WebhookRefused("malformed TikTok-Signature header") from exc


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
            raw = json.loads(raw)
        except ValueError:
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
    except ValueError as exc:
        raise WebhookRefused("body is not JSON") from exc
    if not isinstance(payload, dict) or str(payload.get("client_key", "")) != app.client_key:
        raise WebhookRefused("event for another app")
    created_at = payload.get("create_time")
    occurred_at = (
        dt.datetime.fromtimestamp(created_at, tz=dt.UTC)
        if isinstance(created_at, int | float)
        else None
    )
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
            transaction.on_commit(lambda: _enqueue(event.pk))
    return event if created else None


def _enqueue(event_id: Any) -> None:
    # By name from the registry: accounts.tiktok sits below accounts.tasks (import contract).
    # Celery discovers task modules lazily, when a worker starts: a web process that has not
    # imported accounts.tasks yet has no such task until the discovery is run here.
    if PROCESS_TASK not in celery_app.tasks:
        celery_app.loader.import_default_modules()
    celery_app.tasks[PROCESS_TASK].delay(event_id=str(event_id))


def _claim(event_id: Any) -> TikTokWebhookEvent | None:
    claimed = TikTokWebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    return TikTokWebhookEvent.objects.get(pk=event_id) if claimed else None


def webhook_event_process(*, event_id: Any) -> bool:
    """Apply one recorded event exactly once; False when it was already processed."""
    event = _claim(event_id)
    if event is None:
        return False
    try:
        _apply(event)
    except Exception:
        # Let the task retry it: the claim is released for the next attempt.
        TikTokWebhookEvent.objects.filter(pk=event.pk).update(processed_at=None)
        raise
    return True


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
