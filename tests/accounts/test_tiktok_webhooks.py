"""TikTok webhooks: signature checks, one processing per event, order-proof effects."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    AccountStatus,
    AccountType,
    BusinessStatus,
    TikTokAccount,
    TikTokVideo,
    TikTokWebhookEvent,
)
from accounts.tiktok.webhooks import webhook_event_process
from later.models import ParkedRetry
from later.retries import retries_send_due
from tests.accounts.conftest import Sim
from tests.accounts.race import race
from tests.simulator import account_with_simulator_tokens
from tiktok_client.config import BUSINESS_SCOPES
from tiktok_client.errors import TikTokUnavailable

pytestmark = pytest.mark.django_db

LOGIN_KIT_SECRET = "sim-client-secret"
BUSINESS_SECRET = "sim-business-app-secret"


def _body(event: str, user_openid: str, content: dict[str, Any], *, client_key: str) -> bytes:
    return json.dumps(
        {
            "client_key": client_key,
            "event": event,
            "create_time": int(time.time()),
            "user_openid": user_openid,
            "content": json.dumps(content),
        }
    ).encode()


def _signature(body: bytes, secret: str, *, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}"


def _post(client: Client, url: str, body: bytes, signature: str) -> Any:
    return client.post(
        url, body, content_type="application/json", headers={"TikTok-Signature": signature}
    )


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from accounts import tasks

    ids: list[str] = []
    monkeypatch.setattr(
        tasks.process_tiktok_webhook, "delay", lambda **kw: ids.append(kw["event_id"])
    )
    return ids


def _login_kit(sim: Sim, workspace: Any) -> TikTokAccount:
    return account_with_simulator_tokens(
        sim.app, workspace, open_id="sim-ava-public", scopes=("user.info.basic", "video.publish")
    )


def test_forged_and_stale_deliveries_are_refused(
    sim: Sim, workspace: Any, queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("accounts:tiktok_webhook")
    body = _body(
        "authorization.removed", "sim-ava-public", {"reason": 1}, client_key="sim-client-key"
    )
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, url, body, _signature(body, "not-the-secret")).status_code == 400
        assert _post(client, url, body, "").status_code == 400
        stale = int(time.time()) - 3600
        assert (
            _post(client, url, body, _signature(body, LOGIN_KIT_SECRET, at=stale)).status_code
            == 400
        )
        tampered = body.replace(b"sim-ava-public", b"sim-ben-private")
        assert _post(client, url, tampered, _signature(body, LOGIN_KIT_SECRET)).status_code == 400
        # Signed with the Business app's secret but sent as a Login Kit event: refused.
        assert _post(client, url, body, _signature(body, BUSINESS_SECRET)).status_code == 400
    assert not TikTokWebhookEvent.objects.exists()
    assert queued == []


def test_revoked_authorization_marks_needs_reconnect_once_for_duplicates(
    sim: Sim,
    workspace: Any,
    queued: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = _login_kit(sim, workspace)
    account.token_refreshed_at = timezone.now() - timedelta(hours=1)
    account.save(update_fields=["token_refreshed_at"])
    url = reverse("accounts:tiktok_webhook")
    body = _body(
        "authorization.removed", "sim-ava-public", {"reason": 1}, client_key="sim-client-key"
    )
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):  # TikTok delivers at least once: the same event three times
            assert _post(client, url, body, _signature(body, LOGIN_KIT_SECRET)).status_code == 200
    assert len(queued) == 1
    assert TikTokWebhookEvent.objects.count() == 1
    assert webhook_event_process(event_id=queued[0]) is True
    assert webhook_event_process(event_id=queued[0]) is False  # a repeated task does nothing
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert "removed this app's access" in account.status_reason
    from accounts.models import Notification

    assert (
        Notification.objects.for_workspace(workspace).filter(kind="account_needs_reconnect").count()
        == Notification.objects.for_workspace(workspace).values("user").distinct().count()
    )


def test_a_late_revocation_does_not_break_a_newer_connection(
    sim: Sim, workspace: Any, queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    account = _login_kit(sim, workspace)  # connected just now
    body = json.dumps(
        {
            "client_key": "sim-client-key",
            "event": "authorization.removed",
            "create_time": int(time.time()) - 600,  # happened before this connection
            "user_openid": "sim-ava-public",
            "content": json.dumps({"reason": 1}),
        }
    ).encode()
    account.token_refreshed_at = timezone.now()
    account.save(update_fields=["token_refreshed_at"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            Client(), reverse("accounts:tiktok_webhook"), body, _signature(body, LOGIN_KIT_SECRET)
        )
    assert response.status_code == 200
    webhook_event_process(event_id=queued[0])
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED


def test_publish_events_in_any_order_make_the_post_poll_now(
    sim: Sim, workspace: Any, queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    from calendar_app.models import Post

    account = _login_kit(sim, workspace)
    later = timezone.now() + timedelta(minutes=5)
    post = Post.objects.create(
        workspace=workspace,
        account=account,
        status="publishing",
        publish_id="v_pub_file~v2-1.123",
        next_attempt_at=later,
    )
    other = Post.objects.create(
        workspace=workspace,
        account=account,
        status="publishing",
        publish_id="v_pub_file~v2-1.999",
        next_attempt_at=later,
    )
    url = reverse("accounts:tiktok_webhook")
    events = [
        ("post.publish.publicly_available", {"publish_id": post.publish_id, "post_id": "7"}),
        ("post.publish.complete", {"publish_id": post.publish_id}),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for name, content in events:  # out of order: public before complete
            body = _body(name, "sim-ava-public", content, client_key="sim-client-key")
            assert _post(Client(), url, body, _signature(body, LOGIN_KIT_SECRET)).status_code == 200
    for event_id in queued:
        webhook_event_process(event_id=event_id)
    post.refresh_from_db()
    other.refresh_from_db()
    # The webhook only hurries the poll; TikTok's status answer settles the post.
    assert post.status == "publishing"
    assert post.next_attempt_at is not None and post.next_attempt_at <= timezone.now()
    assert other.next_attempt_at == later


def test_a_publish_event_resumes_polling_for_an_unconfirmed_post(
    sim: Sim, workspace: Any, queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    from calendar_app.models import Post

    account = _login_kit(sim, workspace)
    post = Post.objects.create(
        workspace=workspace, account=account, status="unconfirmed", publish_id="v_pub_file~v2-1.7"
    )
    untouched = Post.objects.create(
        workspace=workspace, account=account, status="unconfirmed", publish_id="v_pub_file~v2-1.8"
    )
    url = reverse("accounts:tiktok_webhook")
    body = _body(
        "post.publish.complete",
        "sim-ava-public",
        {"publish_id": post.publish_id},
        client_key="sim-client-key",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(Client(), url, body, _signature(body, LOGIN_KIT_SECRET)).status_code == 200
    for event_id in queued:
        webhook_event_process(event_id=event_id)
    post.refresh_from_db()
    untouched.refresh_from_db()
    # TikTok named this publish_id, so it has the post: the pipeline asks its status again.
    assert post.status == "publishing"
    assert post.next_attempt_at is not None and post.next_attempt_at <= timezone.now()
    assert untouched.status == "unconfirmed"


def test_business_comment_update_schedules_that_videos_sync(
    sim: Sim,
    workspace: Any,
    queued: list[str],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conversations import tasks as conversation_tasks

    account = account_with_simulator_tokens(
        sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=("user.info.basic",),
        account_type=AccountType.BUSINESS,
        business_scopes=BUSINESS_SCOPES,
    )
    assert account.business_status == BusinessStatus.CONNECTED
    video = TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id="7400000000000000001",
        posted_at=timezone.now() - timedelta(days=3),
        comments_synced_at=timezone.now(),
    )
    syncs: list[dict[str, str]] = []
    monkeypatch.setattr(
        conversation_tasks.sync_account_comments, "delay", lambda **kw: syncs.append(kw)
    )
    body = _body(
        "comment.update",
        account.business_id,
        {"video_id": video.video_id, "comment_id": "1", "comment_action": "insert"},
        client_key="sim-business-app-id",
    )
    url = reverse("accounts:tiktok_business_webhook")
    with django_capture_on_commit_callbacks(execute=True):
        # Login Kit's secret does not sign Business events.
        assert _post(Client(), url, body, _signature(body, LOGIN_KIT_SECRET)).status_code == 400
        assert _post(Client(), url, body, _signature(body, BUSINESS_SECRET)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_process(event_id=queued[0])
    video.refresh_from_db()
    assert video.comments_synced_at is None
    assert syncs == [{"workspace_id": str(workspace.pk), "account_id": str(account.pk)}]


def test_an_event_that_fails_for_want_of_tiktok_waits_in_postgresql_up_to_the_bound(
    monkeypatch: pytest.MonkeyPatch,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts import tasks
    from accounts.tiktok import webhooks

    event = TikTokWebhookEvent.objects.create(
        app="login_kit", digest="d" * 64, event="authorization.removed", user_openid="someone"
    )
    tries: list[str] = []

    def unavailable(*, event_id: str) -> bool:
        tries.append(event_id)
        raise TikTokUnavailable("TikTok is unavailable")

    monkeypatch.setattr(webhooks, "webhook_event_process", unavailable)
    kwargs = {"event_id": str(event.pk)}
    tasks.process_tiktok_webhook(**kwargs)
    assert broker_sent == []  # no countdown message
    for retry in range(1, tasks.WEBHOOK_RETRY.max_attempts + 1):
        row = ParkedRetry.objects.get(task=tasks.WEBHOOK_TASK, subject=str(event.pk))
        assert row.attempts == retry - 1 and row.next_attempt_at is not None
        with django_capture_on_commit_callbacks(execute=True):
            assert retries_send_due(now=row.next_attempt_at) == 1
        assert broker_sent[-1] == (tasks.WEBHOOK_TASK, kwargs)
        tasks.process_tiktok_webhook(**kwargs)
    assert len(tries) == 1 + tasks.WEBHOOK_RETRY.max_attempts
    row = ParkedRetry.objects.get(task=tasks.WEBHOOK_TASK)
    assert row.gave_up_at is not None and row.next_attempt_at is None
    assert "TikTok is unavailable" in row.last_error


WEB_PROCESS_ENQUEUE = textwrap.dedent(
    """
    import django
    django.setup()
    from celery.app.task import Task
    from accounts.tiktok import webhooks
    from later.celery import app
    assert webhooks.PROCESS_TASK not in app.tasks, "accounts.tasks is already loaded"
    Task.delay = lambda self, *args, **kwargs: print("queued", self.name, kwargs["event_id"])
    webhooks._enqueue("event-1")
    """
)


def test_a_web_process_that_never_loaded_the_tasks_still_queues_an_event() -> None:
    # The quick start's web server answered TikTok's webhooks with 500 (NotRegistered): only a
    # worker discovers the task modules by itself. A fresh interpreter is such a web process.
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS_ENQUEUE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["queued", "accounts.tasks.process_tiktok_webhook", "event-1"]


# The sweep: events stored but never applied are queued again (accounts.tiktok.webhooks).


def _stored(**fields: Any) -> TikTokWebhookEvent:
    fields.setdefault("digest", hashlib.sha256(str(fields).encode()).hexdigest())
    return TikTokWebhookEvent.objects.create(
        app="login_kit", event="authorization.removed", user_openid="sim-ava-public", **fields
    )


def test_an_event_whose_enqueue_failed_is_processed_by_the_sweep(
    sim: Sim,
    workspace: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from kombu.exceptions import OperationalError

    from accounts import tasks
    from accounts.tiktok.webhooks import SWEEP_GRACE, webhook_events_requeue

    account = _login_kit(sim, workspace)
    account.token_refreshed_at = timezone.now() - timedelta(hours=1)
    account.save(update_fields=["token_refreshed_at"])

    def broker_down(**kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(tasks.process_tiktok_webhook, "delay", broker_down)
    url = reverse("accounts:tiktok_webhook")
    body = _body(
        "authorization.removed", "sim-ava-public", {"reason": 1}, client_key="sim-client-key"
    )
    with django_capture_on_commit_callbacks(execute=True):
        # Stored, so TikTok hears 200 (a 500 would make its repeat look like a known event).
        assert _post(Client(), url, body, _signature(body, LOGIN_KIT_SECRET)).status_code == 200
    event = TikTokWebhookEvent.objects.get()
    assert event.processed_at is None

    queued: list[str] = []
    monkeypatch.setattr(
        tasks.process_tiktok_webhook, "delay", lambda **kw: queued.append(kw["event_id"])
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_requeue() == {"queued": 0, "gave_up": 0}  # within the grace
        later = timezone.now() + SWEEP_GRACE
        assert webhook_events_requeue(now=later) == {"queued": 1, "gave_up": 0}
        # A second sweep right after (or beside) the first queues nothing more.
        assert webhook_events_requeue(now=later) == {"queued": 0, "gave_up": 0}
    assert queued == [str(event.pk)]
    tasks.process_tiktok_webhook(event_id=queued[0])
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_requeue(now=later + timedelta(days=1))["queued"] == 0
    assert queued == [str(event.pk)]


def test_a_fresh_event_is_left_to_the_normal_path(queued: list[str]) -> None:
    from accounts.tiktok.webhooks import SWEEP_GRACE, webhook_events_requeue

    event = _stored()
    almost = event.queued_at + SWEEP_GRACE - timedelta(seconds=1)
    assert webhook_events_requeue(now=almost) == {"queued": 0, "gave_up": 0}
    event.refresh_from_db()
    assert event.queued_at < almost and queued == []


def test_an_event_being_processed_is_not_processed_twice(
    monkeypatch: pytest.MonkeyPatch, queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    from accounts.tiktok import webhooks

    event = _stored(queued_at=timezone.now() - timedelta(hours=1))
    applied: list[Any] = []

    def apply_while_the_sweep_runs(current: TikTokWebhookEvent) -> None:
        applied.append(current.pk)
        # Meanwhile the sweep runs and a duplicate message arrives: neither touches it.
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_events_requeue()["queued"] == 0
        assert webhooks.webhook_event_process(event_id=current.pk) is False

    monkeypatch.setattr(webhooks, "_apply", apply_while_the_sweep_runs)
    assert webhooks.webhook_event_process(event_id=event.pk) is True
    assert applied == [event.pk] and queued == []


@pytest.mark.django_db(transaction=True)
def test_racing_workers_and_sweeps_apply_an_event_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from accounts import tasks
    from accounts.tiktok import webhooks

    event = _stored(queued_at=timezone.now() - timedelta(hours=1))
    applied: list[Any] = []

    def slow_apply(current: TikTokWebhookEvent) -> None:
        time.sleep(0.2)
        applied.append(current.pk)

    monkeypatch.setattr(webhooks, "_apply", slow_apply)
    # A sweep's message is handled at once, in the sweeping thread, as a free worker would.
    monkeypatch.setattr(
        tasks.process_tiktok_webhook, "delay", lambda **kw: tasks.process_tiktok_webhook(**kw)
    )
    calls = [
        lambda: webhooks.webhook_event_process(event_id=event.pk),
        lambda: webhooks.webhook_events_requeue(),
    ]
    turn = itertools.count()
    _results, errors = race(6, lambda: calls[next(turn) % 2]())
    assert errors == []
    assert applied == [event.pk]
    event.refresh_from_db()
    assert event.processed_at is not None and event.claimed_at is None


def test_a_try_killed_half_way_is_offered_again_once_its_lease_lapses(
    queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    from accounts.tiktok.webhooks import CLAIM_LEASE, SWEEP_GRACE, webhook_events_requeue

    now = timezone.now()
    event = _stored(queued_at=now - timedelta(hours=1), claimed_at=now, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_requeue(now=now + SWEEP_GRACE)["queued"] == 0  # still its try's
        lapsed = now + CLAIM_LEASE + timedelta(seconds=1)
        assert webhook_events_requeue(now=lapsed)["queued"] == 1
    assert queued == [str(event.pk)]


def test_an_event_that_keeps_failing_is_given_up_and_shown_in_admin(
    monkeypatch: pytest.MonkeyPatch,
    queued: list[str],
    django_capture_on_commit_callbacks: Any,
    client_for: Any,
) -> None:
    from accounts import tasks
    from accounts.models import User
    from accounts.tiktok import webhooks

    event = _stored()

    def broken(current: TikTokWebhookEvent) -> None:
        raise ValueError("a bug in the handler")

    monkeypatch.setattr(webhooks, "_apply", broken)
    at = timezone.now()
    for _ in range(webhooks.MAX_PROCESSING_ATTEMPTS):
        at += webhooks.SWEEP_GRACE
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_events_requeue(now=at) == {"queued": 1, "gave_up": 0}
        with pytest.raises(ValueError):
            tasks.process_tiktok_webhook(event_id=queued[-1])
    event.refresh_from_db()
    assert event.attempts == webhooks.MAX_PROCESSING_ATTEMPTS
    assert event.gave_up_at is not None and event.last_error == "a bug in the handler"
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhook_events_requeue(now=at + timedelta(days=1))["queued"] == 0
    assert webhooks.webhook_event_process(event_id=event.pk) is False
    assert len(queued) == webhooks.MAX_PROCESSING_ATTEMPTS

    admin = User.objects.create_superuser(email="ops@example.com", password="x")
    page = client_for(admin).get(
        reverse("admin:accounts_tiktokwebhookevent_changelist") + "?gave_up_at__isnull=False"
    )
    assert page.status_code == 200
    assert str(event.pk) in page.content.decode()


def test_an_error_no_retry_mends_gives_the_event_up_at_once(
    monkeypatch: pytest.MonkeyPatch, queued: list[str]
) -> None:
    from accounts import tasks
    from accounts.tiktok import webhooks
    from tiktok_client.errors import TikTokInvalidRequest

    event = _stored(queued_at=timezone.now() - timedelta(hours=1))

    def refused(current: TikTokWebhookEvent) -> None:
        raise TikTokInvalidRequest("invalid_publish_id")

    monkeypatch.setattr(webhooks, "_apply", refused)
    with pytest.raises(TikTokInvalidRequest):
        tasks.process_tiktok_webhook(event_id=str(event.pk))
    event.refresh_from_db()
    assert event.gave_up_at is not None and "invalid_publish_id" in event.last_error
    assert webhooks.webhook_events_requeue()["queued"] == 0


def test_malformed_signature_headers_are_refused_not_a_server_error() -> None:
    body = _body("authorization.removed", "sim-ava-public", {}, client_key="sim-client-key")
    now = int(time.time())
    client = Client(raise_request_exception=False)
    url = reverse("accounts:tiktok_webhook")
    for header in (f"t={'9' * 400},s={'a' * 64}", f"t={now},s=\u00e9\u00e9", f"t=+{now},s=x"):
        assert _post(client, url, body, header).status_code == 400, header
    deep = b"[" * 30_000 + b"]" * 30_000
    assert _post(client, url, deep, _signature(deep, LOGIN_KIT_SECRET)).status_code == 400


def test_a_signed_event_with_values_no_column_takes_is_kept_without_them(
    queued: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    body = json.dumps(
        {
            "client_key": "sim-client-key",
            "event": "post.publish.\x00complete",
            "create_time": 10**20,
            "user_openid": "open\x00id",
            "content": json.dumps({"publish_id": "p\x00-1", "note": "\ud800", "n": float("nan")}),
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            Client(), reverse("accounts:tiktok_webhook"), body, _signature(body, LOGIN_KIT_SECRET)
        )
    assert response.status_code == 200
    event = TikTokWebhookEvent.objects.get()
    assert (event.event, event.user_openid, event.occurred_at) == (
        "post.publish.complete",
        "openid",
        None,
    )
    assert event.content == {"publish_id": "p-1", "note": "?", "n": None}
    assert queued == [str(event.pk)]
