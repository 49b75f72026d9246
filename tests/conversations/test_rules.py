"""Moderation rules against the simulator: a new comment with a blocked word is hidden on
TikTok right after the sync stored it, the action shows in the thread and undoes in one click;
a dry run tells what a rule would have done and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TikTokAccount, TikTokVideo, User, Workspace
from conversations import rules
from conversations.models import (
    Comment,
    CommentLabel,
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    RuleRunStatus,
)
from conversations.sync import comment_sync_account
from later.errors import ValidationFailed
from tests.conversations.conftest import HIDE_PATH, CommentSim, roomy_budget
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db


def _rule(workspace: Workspace, **extra: object) -> ModerationRule:
    data = rules.RuleInput.clean(
        name=str(extra.pop("name", "No spam")),
        action=str(extra.pop("action", RuleAction.HIDE)),
        label=extra.pop("label", None),  # type: ignore[arg-type]
        account=extra.pop("account", None),  # type: ignore[arg-type]
        blocked_words=extra.pop("blocked_words", "free followers\ncrypto"),  # type: ignore[arg-type]
        block_links=bool(extra.pop("block_links", False)),
        blocked_authors=extra.pop("blocked_authors", ""),  # type: ignore[arg-type]
        is_enabled=bool(extra.pop("is_enabled", True)),
    )
    return rules.moderation_rule_create(workspace=workspace, data=data, user=None)


@pytest.fixture
def synced(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> list[TikTokVideo]:
    comment_sync_account(account=business_account, budget=roomy_budget(business_account))
    return videos


def _run_tasks_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not CELERY_TASK_ALWAYS_EAGER: the Celery app reads it once, so flipping the setting in a
    # test does nothing once another test configured the app.
    from conversations import tasks

    monkeypatch.setattr(
        tasks.apply_moderation_rules, "delay", lambda **kw: tasks.apply_moderation_rules(**kw)
    )


def _sync_again(account: TikTokAccount, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        comment_sync_account(
            account=account,
            budget=roomy_budget(account),
            now=timezone.now() + dt.timedelta(days=3),
        )


def test_a_rule_hides_a_new_comment_after_sync_then_undo_unhides_it(
    csim: CommentSim,
    business_account: TikTokAccount,
    synced: list[TikTokVideo],
    workspace: Workspace,
    editor: User,
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    _run_tasks_inline(monkeypatch)
    rule = _rule(workspace)
    video = synced[0]
    spam_id = csim.fan_comment(video.video_id, "Get FREE followers now!!")
    fine_id = csim.fan_comment(video.video_id, "love this choreo")
    hides_before = csim.calls(HIDE_PATH)

    _sync_again(business_account, django_capture_on_commit_callbacks)

    assert csim.state.comments[spam_id].status == "HIDDEN"
    assert csim.state.comments[fine_id].status == "PUBLIC"
    assert csim.calls(HIDE_PATH) == hides_before + 1
    spam = Comment.objects.for_workspace(workspace).get(comment_id=spam_id)
    assert spam.is_hidden
    run = RuleRun.objects.for_workspace(workspace).get()
    assert (run.rule, run.comment, run.status) == (rule, spam, RuleRunStatus.DONE)

    # The thread says which rule did it, with an undo button.
    page = client_for(editor).get(reverse("conversations:post", args=[workspace.pk, video.pk]))
    html = page.content.decode()
    assert "Hidden by rule “No spam”" in html and 'data-testid="undo"' in html

    # Running the rules again (a retried task) calls TikTok no more.
    rules.moderation_rules_apply(workspace=workspace, comment_ids=[spam.pk])
    assert csim.calls(HIDE_PATH) == hides_before + 1

    response = client_for(editor).post(
        reverse("conversations:rule_run_undo", args=[workspace.pk, run.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert csim.state.comments[spam_id].status == "PUBLIC"
    run.refresh_from_db()
    spam.refresh_from_db()
    assert run.status == RuleRunStatus.UNDONE and run.undone_by == editor
    assert not spam.is_hidden
    # Undone stays undone: the rule does not hide it again on the next run.
    rules.moderation_rules_apply(workspace=workspace, comment_ids=[spam.pk])
    assert csim.state.comments[spam_id].status == "PUBLIC"


def test_a_failed_hide_is_recorded_not_retried_blindly(
    csim: CommentSim,
    business_account: TikTokAccount,
    synced: list[TikTokVideo],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    _run_tasks_inline(monkeypatch)
    _rule(workspace, blocked_words="", block_links=True)
    spam_id = csim.fan_comment(synced[0].video_id, "cheap stuff at shop-now.xyz today")
    csim.fault(HIDE_PATH, "http_500")

    _sync_again(business_account, django_capture_on_commit_callbacks)

    run = RuleRun.objects.for_workspace(workspace).get()
    assert run.status == RuleRunStatus.FAILED and "did not hide" in run.error
    assert csim.state.comments[spam_id].status == "PUBLIC"
    with pytest.raises(ValidationFailed):
        rules.rule_run_undo(run=run, user=None)


def test_label_rules_blocked_commenters_and_per_account_rules(
    workspace: Workspace,
) -> None:
    account = make_account(workspace)
    other_account = make_account(workspace)
    video = make_video(account)
    other_video = make_video(other_account)
    lead = Label.objects.create(workspace=workspace, name="lead")
    _rule(
        workspace,
        name="Leads",
        action=RuleAction.LABEL,
        label=lead,
        blocked_words="price\nwholesale",
        account=account,
    )
    _rule(
        workspace,
        name="Troll",
        action=RuleAction.LABEL,
        label=lead,
        blocked_words="",
        blocked_authors="@Troll_99",
    )
    asks = make_comment(video, text="What's the PRICE for 10?")
    elsewhere = make_comment(other_video, text="price?")
    troll = make_comment(other_video, text="hello", author_username="troll_99")
    innocent = make_comment(video, text="priceless moment")  # words match whole words only

    runs = rules.moderation_rules_apply(
        workspace=workspace, comment_ids=[asks.pk, elsewhere.pk, troll.pk, innocent.pk]
    )

    labelled = set(
        CommentLabel.objects.for_workspace(workspace).values_list("comment_id", flat=True)
    )
    assert labelled == {asks.pk, troll.pk}
    assert {r.status for r in runs} == {RuleRunStatus.DONE}
    run = RuleRun.objects.for_workspace(workspace).get(comment=asks)
    rules.rule_run_undo(run=run, user=None)
    assert not CommentLabel.objects.for_workspace(workspace).filter(comment=asks).exists()


def test_dry_run_shows_the_last_30_days_and_changes_nothing(
    workspace: Workspace,
    owner: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
) -> None:
    video = make_video(make_account(workspace))
    now = timezone.now()
    recent = make_comment(video, text="follow me at www.spam.example", created_at_tiktok=now)
    make_comment(video, text="crypto giveaway", created_at_tiktok=now - dt.timedelta(days=2))
    make_comment(video, text="crypto long ago", created_at_tiktok=now - dt.timedelta(days=31))
    make_comment(video, text="nice dance", created_at_tiktok=now)
    make_comment(video, text="crypto from us", is_own=True, created_at_tiktok=now)

    spec = rules.RuleSpec(blocked_words=("crypto",), block_links=True)
    result = rules.moderation_rule_dry_run(workspace=workspace, spec=spec)
    assert result.matched == 2
    assert result.samples[0][0].pk == recent.pk
    assert not RuleRun.objects.for_workspace(workspace).exists()

    url = reverse("conversations:rule_new", args=[workspace.pk])
    form = {"name": "Spam", "blocked_words": "crypto", "block_links": "on", "action": "hide"}
    page = client_for(owner).post(url, {**form, "preview": "1"})
    assert page.status_code == 200
    assert "Would have acted on 2 comments" in page.content.decode()
    assert not ModerationRule.objects.for_workspace(workspace).exists()

    api = api_client_for(owner)
    body = {"name": "Spam", "blocked_words": ["crypto"], "block_links": True}
    dry = api.post(f"/api/v1/w/{workspace.pk}/conversations/rules/dry-run/", body, format="json")
    assert dry.status_code == 200 and dry.json()["matched"] == 2
    created = [
        api.post(f"/api/v1/w/{workspace.pk}/conversations/rules/", body, format="json")
        for _ in range(2)
    ]
    assert [r.status_code for r in created] == [201, 201]
    assert created[0].json()["id"] == created[1].json()["id"]
    assert created[0].json()["is_enabled"] is False


def test_rule_input_is_validated(workspace: Workspace) -> None:
    with pytest.raises(ValidationFailed, match="blocked word"):
        _rule(workspace, blocked_words="")
    with pytest.raises(ValidationFailed, match="label"):
        _rule(workspace, action=RuleAction.LABEL)
    with pytest.raises(ValidationFailed, match="hides the comment or adds a label"):
        _rule(workspace, action="delete")


def test_editors_cannot_change_rules(
    workspace: Workspace,
    editor: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
) -> None:
    url = reverse("conversations:rule_new", args=[workspace.pk])
    response = client_for(editor).post(url, {"name": "x", "blocked_words": "y"})
    assert response.status_code == 403
    api = api_client_for(editor).post(
        f"/api/v1/w/{workspace.pk}/conversations/rules/",
        {"name": "x", "blocked_words": ["y"]},
        format="json",
    )
    assert api.status_code == 403
    assert not ModerationRule.objects.for_workspace(workspace).exists()


def test_api_undo_unhides_once_and_foreign_ids_are_not_found(
    csim: CommentSim,
    business_account: TikTokAccount,
    synced: list[TikTokVideo],
    workspace: Workspace,
    other_workspace: Workspace,
    editor: User,
    outsider: User,
    api_client_for: Callable[[User], APIClient],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    _run_tasks_inline(monkeypatch)
    _rule(workspace)
    spam_id = csim.fan_comment(synced[0].video_id, "crypto giveaway, DM me")
    _sync_again(business_account, django_capture_on_commit_callbacks)
    run = RuleRun.objects.for_workspace(workspace).get()
    assert csim.state.comments[spam_id].status == "HIDDEN"
    calls = csim.calls(HIDE_PATH)

    # Another workspace's member, through their own workspace, cannot reach this run.
    foreign = api_client_for(outsider).post(
        reverse("conversations:api_rule_run_undo", args=[other_workspace.pk, run.pk])
    )
    assert foreign.status_code == 404
    assert csim.calls(HIDE_PATH) == calls
    assert RuleRun.objects.for_workspace(workspace).get().status == RuleRunStatus.DONE

    api = api_client_for(editor)
    url = reverse("conversations:api_rule_run_undo", args=[workspace.pk, run.pk])
    first = api.post(url)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["id"], body["status"]) == (str(run.pk), RuleRunStatus.UNDONE)
    assert body["undone_at"] is not None
    assert csim.state.comments[spam_id].status == "PUBLIC"
    assert csim.calls(HIDE_PATH) == calls + 1
    # A second undo (a double click, a retried request) changes nothing and calls TikTok no more.
    second = api.post(url)
    assert second.status_code == 200 and second.json() == body
    assert csim.calls(HIDE_PATH) == calls + 1
    assert not Comment.objects.for_workspace(workspace).get(comment_id=spam_id).is_hidden
    missing = api.post(
        reverse("conversations:api_rule_run_undo", args=[workspace.pk, other_workspace.pk])
    )
    assert missing.status_code == 404
