"""Always-fresh tokens: exactly-once refresh under races, refused refresh, periodic task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import AccountStatus, Notification, TikTokAccount
from accounts.tiktok import AccountNeedsReconnect, tiktok_account_access_token, tiktok_account_call
from accounts.tiktok.access import apply_token_set
from later.models import ParkedRetry
from later.retries import retries_send_due
from tests.accounts.conftest import Sim, make_connected_account
from tests.accounts.race import race
from tiktok_client.schemas import TokenSet


def _expired(account: TikTokAccount) -> TikTokAccount:
    account.access_token_expires_at = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["access_token_expires_at"])
    return account


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_refreshes_reach_tiktok_once(sim: Sim, workspace: Any) -> None:
    account = _expired(make_connected_account(sim, workspace))
    old_refresh = decrypt_token(account.refresh_token_encrypted)
    workers = 50
    results, errors = race(
        workers,
        lambda: tiktok_account_access_token(
            account=TikTokAccount.objects.for_workspace(workspace).get(pk=account.pk)
        ),
    )

    assert errors == []
    assert len(results) == workers
    assert sim.token_calls() == 1
    assert len(set(results)) == 1
    account.refresh_from_db()
    new_refresh = decrypt_token(account.refresh_token_encrypted)
    assert new_refresh != old_refresh
    assert sim.state.refresh_tokens[new_refresh].used is False
    assert sim.state.refresh_tokens[old_refresh].used is True
    assert decrypt_token(account.access_token_encrypted) == results[0]
    close_old_connections()


@pytest.mark.django_db
def test_fresh_token_is_used_without_refresh(sim: Sim, workspace: Any) -> None:
    account = make_connected_account(sim, workspace)
    stored = decrypt_token(account.access_token_encrypted)
    assert tiktok_account_access_token(account=account) == stored
    assert sim.token_calls() == 0


@pytest.mark.django_db
def test_auth_error_refreshes_once_and_retries(sim: Sim, workspace: Any) -> None:
    from accounts.tiktok import get_tiktok_client

    account = make_connected_account(sim, workspace)
    with sim.state.lock:
        sim.state.expire_tokens(open_id=account.open_id)  # TikTok expired it before we expected

    info = tiktok_account_call(
        account=account,
        call=lambda token: get_tiktok_client().get_user_info(
            access_token=token, fields=["open_id", "display_name"]
        ),
    )
    assert info.open_id == account.open_id
    assert sim.token_calls() == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED


@pytest.mark.django_db
def test_refused_refresh_marks_account_notifies_and_flags_posts(
    sim: Sim,
    workspace: Any,
    owner: Any,
    editor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from calendar_app.models import Post

    account = _expired(make_connected_account(sim, workspace))
    scheduled = Post.objects.create(
        workspace=workspace,
        account=account,
        status="scheduled",
        scheduled_at=timezone.now() + timedelta(hours=3),
    )
    draft = Post.objects.create(workspace=workspace, account=account, status="draft")
    with sim.state.lock:
        sim.state.revoke_grant(open_id=account.open_id)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AccountNeedsReconnect):
        tiktok_account_access_token(account=account)

    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert "refused" in account.status_reason
    assert sim.token_calls() == 1
    notified = set(
        Notification.objects.for_workspace(workspace).values_list("user__email", flat=True)
    )
    assert notified == {owner.email, editor.email}
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {owner.email, editor.email}
    scheduled.refresh_from_db()
    draft.refresh_from_db()
    assert "reconnected" in scheduled.needs_attention
    assert draft.needs_attention == ""

    # Later calls fail fast without calling TikTok or notifying again.
    with pytest.raises(AccountNeedsReconnect):
        tiktok_account_access_token(account=account)
    assert sim.token_calls() == 1
    assert Notification.objects.for_workspace(workspace).count() == 2


@pytest.mark.django_db
def test_token_response_without_refresh_token_keeps_the_old_one(sim: Sim, workspace: Any) -> None:
    account = make_connected_account(sim, workspace)
    old_refresh = decrypt_token(account.refresh_token_encrypted)
    apply_token_set(
        account=account,
        tokens=TokenSet(
            open_id=account.open_id,
            scopes=("user.info.basic",),
            access_token="act.new",
            expires_in=86400,
            refresh_token="",
            refresh_expires_in=0,
            token_type="Bearer",
        ),
    )
    assert decrypt_token(account.refresh_token_encrypted) == old_refresh
    assert decrypt_token(account.access_token_encrypted) == "act.new"


@pytest.mark.django_db
def test_periodic_task_enqueues_expiring_accounts_and_refreshes(
    sim: Sim, workspace: Any, other_workspace: Any, monkeypatch: Any
) -> None:
    from accounts import tasks

    soon = make_connected_account(sim, workspace, expires_in=timedelta(minutes=30))
    other = make_connected_account(
        sim, other_workspace, open_id="sim-ben-private", expires_in=timedelta(minutes=50)
    )
    make_connected_account(sim, workspace, open_id="sim-quiet-chef", expires_in=timedelta(hours=5))
    TikTokAccount.objects.create(
        workspace=workspace,
        open_id="gone",
        status=AccountStatus.NEEDS_RECONNECT,
        access_token_expires_at=timezone.now(),
        access_token_encrypted=encrypt_token("act.dead"),
    )
    queued: list[dict[str, str]] = []
    monkeypatch.setattr(tasks.refresh_account_token, "delay", lambda **kw: queued.append(kw))

    assert tasks.refresh_expiring_tokens() == 2
    assert sorted(q["account_id"] for q in queued) == sorted([str(soon.pk), str(other.pk)])
    assert all(set(q) == {"account_id", "workspace_id"} for q in queued)

    for kwargs in queued:
        tasks.refresh_account_token.apply(kwargs=kwargs).get()
    assert sim.token_calls() == 2
    soon.refresh_from_db()
    assert soon.access_token_expires_at is not None
    assert soon.access_token_expires_at > timezone.now() + timedelta(hours=1)
    # Running the same task again is a no-op: the token is fresh now.
    tasks.refresh_account_token.apply(kwargs=queued[0]).get()
    assert sim.token_calls() == 2


@pytest.mark.django_db
def test_a_refresh_tiktok_cannot_answer_retries_from_postgresql_not_the_broker(
    sim: Sim,
    workspace: Any,
    owner: Any,
    client_for: Any,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts import tasks

    account = make_connected_account(sim, workspace, expires_in=timedelta(minutes=30))
    kwargs: dict[str, Any] = {"account_id": str(account.pk), "workspace_id": str(workspace.pk)}
    sim.app.faults.add("/v2/oauth/token/", "http_500", count=None)
    assert tasks.refresh_expiring_tokens() == 1
    assert broker_sent == [(tasks.REFRESH_TASK, kwargs)]

    tasks.refresh_account_token(**kwargs)  # TikTok answers 500
    assert len(broker_sent) == 1  # the retry is no message: it waits in PostgreSQL
    row = ParkedRetry.objects.get(task=tasks.REFRESH_TASK, subject=str(account.pk))
    assert row.label == "Token refresh" and row.attempts == 0
    assert row.next_attempt_at is not None and row.next_attempt_at > timezone.now()
    assert tasks.refresh_expiring_tokens() == 0  # the beat leaves it to its parked retry
    page = client_for(owner).get(reverse("accounts:tiktok_accounts", args=[workspace.pk]))
    retry_note = page.content.decode()
    assert "Token refresh failed" in retry_note and "retrying at" in retry_note

    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=row.next_attempt_at) == 1
    assert broker_sent[-1] == (tasks.REFRESH_TASK, kwargs)
    sim.app.faults.clear()
    tasks.refresh_account_token(**kwargs)  # the retry: TikTok answers now
    assert not ParkedRetry.objects.filter(task=tasks.REFRESH_TASK).exists()
    account.refresh_from_db()
    assert account.access_token_expires_at is not None
    assert account.access_token_expires_at > timezone.now() + timedelta(hours=1)
