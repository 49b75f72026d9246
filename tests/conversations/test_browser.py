"""Browser journey: reply to and hide a comment from the Inbox, as a moderator would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from conversations.models import Comment, ModerationRule, RuleRun, RuleRunStatus
from conversations.selectors import inbox_counts
from conversations.sync import comment_sync_account
from tests.browser import signed_in_page
from tests.conversations.conftest import (
    CommentSim,
    connect_business_account,
    roomy_budget,
    seed_videos,
    triage_pending,
)
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, editor: User) -> Iterator[object]:
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 1400, "height": 900}
    ) as page:
        yield page


def test_reply_and_hide_from_the_inbox(
    csim: CommentSim,
    workspace: Workspace,
    live_server,
    browser_page,
) -> None:
    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    newest = (
        Comment.objects.for_workspace(workspace)
        .filter(is_own=False)
        .order_by("-created_at_tiktok", "-id")
        .first()
    )
    assert newest is not None
    page = browser_page

    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
    item = page.locator(f"#c-{newest.pk}")
    assert newest.text in item.inner_text()

    # Keyboard: j focuses the first comment, r opens its reply box.
    page.keyboard.press("j")
    page.keyboard.press("r")
    textarea = item.locator("textarea[name=text]")
    textarea.wait_for(state="visible")
    textarea.fill("Thanks so much! 💛")
    assert item.locator("[data-count]").inner_text() == "17/150"
    textarea.fill("x" * 151)
    assert "1 too many" in item.locator("[data-count]").inner_text()
    assert item.locator("[data-reply-submit]").is_disabled()
    textarea.fill("Thanks so much! 💛")
    item.locator("[data-reply-submit]").click()

    sent = page.locator(f"#c-{newest.pk} [data-testid=sent-reply]")
    sent.wait_for()
    assert "Sent" in sent.inner_text() and "Thanks so much! 💛" in sent.inner_text()
    assert any(
        c.owner and c.text == "Thanks so much! 💛" and c.parent_comment_id == newest.comment_id
        for c in csim.state.comments.values()
    )

    page.locator(f"#c-{newest.pk} .cv-actions button[data-key=h]").click()
    page.locator(f"#c-{newest.pk} [data-testid=hidden-badge]").wait_for()
    assert csim.state.comments[newest.comment_id].status == "HIDDEN"
    newest.refresh_from_db()
    assert newest.is_hidden and newest.handled_at is not None
    shots = django_settings.BASE_DIR / "var"
    page.screenshot(path=str(shots / "conversations-inbox.png"))

    # The Post view shows the thread with our confirmed reply under the fan's comment.
    page.locator(f"#c-{newest.pk} a.cv-post").click()
    page.locator("[data-testid=caption]").wait_for()
    thread = page.locator(f"#c-{newest.pk}").locator("xpath=..")
    assert "Thanks so much! 💛" in thread.inner_text()
    page.screenshot(path=str(shots / "conversations-post.png"))


def test_more_menu_by_keyboard_takes_the_focus_and_gives_it_back(
    workspace: Workspace, live_server, browser_page
) -> None:
    """m opens a comment's More menu with the focus on its first action, as t and n do for
    theirs; Escape closes it and puts the focus back on the comment."""
    comment = make_comment(make_video(make_account(workspace)), text="Where is this?")
    page = browser_page
    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
    page.keyboard.press("j")
    page.keyboard.press("m")
    more = page.locator(f"#c-{comment.pk} [data-more]")
    assert more.get_attribute("open") is not None
    focused = "document.activeElement.closest('[data-more]') !== null"
    assert page.evaluate(focused), page.evaluate("document.activeElement.outerHTML.slice(0, 80)")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Like"
    page.keyboard.press("Escape")
    assert more.get_attribute("open") is None
    assert page.evaluate("document.activeElement.id") == f"c-{comment.pk}"


def test_more_menu_on_a_phone_shows_whom_a_comment_is_assigned_to(
    workspace: Workspace, editor: User, live_server
) -> None:
    """At 390 px the menu's assignee picker keeps room for a name (it was squeezed to "N")."""
    comment = make_comment(make_video(make_account(workspace)), text="Where is this?")
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 390, "height": 844}
    ) as page:
        page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
        page.get_by_text("Where is this?").click()  # a tap shows the comment's actions
        page.locator(f"#c-{comment.pk} [data-more] > summary").click()
        picker = page.locator(f"#as-{comment.pk}")
        picker.wait_for(state="visible")
        shown = picker.evaluate("s => s.options[s.selectedIndex].text")
        assert shown == "Nobody"
        box = picker.bounding_box()
        assert box is not None and box["width"] >= 100, box
        menu = page.locator(f"#c-{comment.pk} .cv-menu").bounding_box()
        assert menu is not None and menu["x"] >= 0 and menu["x"] + menu["width"] <= 390


def _response_time_fixture(workspace: Workspace, owner: User, editor: User) -> TikTokAccount:
    """An account whose first replies came after 10, 20, 30 and 40 minutes, with one question
    unanswered for 30 h: median 25 min, p90 30 + 0.7 * 10 = 37 min, 1 overdue question (account
    A of tests/conversations/test_response_times.py, dated from now)."""
    account = make_account(workspace, username="brand.fixture")
    video = make_video(account)
    now = timezone.now()
    for age, wait, by in ((50, 10, owner), (60, 20, owner), (70, 30, editor), (80, 40, None)):
        created = now - dt.timedelta(minutes=age)
        make_comment(
            video,
            created_at_tiktok=created,
            first_response_at=created + dt.timedelta(minutes=wait),
            first_response_by=by,
        )
    make_comment(video, created_at_tiktok=now - dt.timedelta(hours=30), is_question=True)
    return account


def test_team_journey_assign_label_saved_reply_and_questions(
    csim: CommentSim,
    workspace: Workspace,
    editor: User,
    owner: User,
    live_server,
) -> None:
    """Assign a question to me, label it, answer it with a saved reply inserted from the
    keyboard, and find it under Questions; at desktop and phone width."""
    from conversations.models import CommentLabel, Label, SavedReply

    account = connect_business_account(csim, workspace)
    video = seed_videos(account, limit=1, skip=3)[0]
    question_id = csim.fan_comment(video.video_id, "where can I buy those shoes")
    comment_sync_account(account=account, budget=roomy_budget(account))
    triage_pending(workspace)  # what the triage task does right after the sync's commit
    question = Comment.objects.for_workspace(workspace).get(comment_id=question_id)
    assert question.is_question
    Label.objects.create(workspace=workspace, name="lead", color="#10b981")
    SavedReply.objects.create(
        workspace=workspace, title="Shop link", text="Hi {name}! Link in {account}'s bio 🛍️"
    )
    fixture_account = _response_time_fixture(workspace, owner, editor)
    shots = django_settings.BASE_DIR / "var"
    inbox_url = live_server.url + reverse("conversations:inbox", args=[workspace.pk])

    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 1440, "height": 900}
    ) as page:
        page.goto(inbox_url + "?status=questions")
        item = page.locator(f"#c-{question.pk}")
        item.wait_for()
        rows = page.locator(".cv-item")
        assert all(
            Comment.objects.for_workspace(workspace).get(pk=rid[2:]).is_question
            for rid in rows.evaluate_all("els => els.map(e => e.id)")
        )
        page.screenshot(path=str(shots / "conversations-questions-1440.png"))

        # Assign to me from the keyboard (a click focuses the row, a assigns it to me).
        item.locator("[data-testid=comment-text]").click()
        page.keyboard.press("a")
        page.locator(f"#c-{question.pk} [data-testid=assignee]").wait_for()
        question.refresh_from_db()
        assert question.assignee == editor

        # Label it: t opens the menu on the label field; clicking the label toggles it.
        item = page.locator(f"#c-{question.pk}")
        item.locator("[data-testid=comment-text]").click()
        page.keyboard.press("t")
        item.locator("[data-label-toggle]", has_text="lead").click()
        page.locator(f"#c-{question.pk} [data-testid=label]", has_text="lead").wait_for()
        assert CommentLabel.objects.for_workspace(workspace).filter(comment=question).exists()

        # Reply with the saved reply: r opens the reply box, Alt+1 inserts it, filled in.
        item = page.locator(f"#c-{question.pk}")
        item.locator("[data-testid=comment-text]").click()
        page.keyboard.press("r")
        textarea = item.locator("textarea[name=text]")
        textarea.wait_for(state="visible")
        page.keyboard.press("Alt+Digit1")
        expected = f"Hi {question.author_label}! Link in @{account.username}'s bio 🛍️"
        assert textarea.input_value() == expected
        count = len(expected)
        assert item.locator("[data-count]").inner_text() == f"{count}/150"
        page.screenshot(path=str(shots / "conversations-saved-reply-1440.png"))
        item.locator("[data-reply-submit]").click()
        page.locator(f"#c-{question.pk} [data-testid=sent-reply]").wait_for()
        assert any(c.owner and c.text == expected for c in csim.state.comments.values())
        question.refresh_from_db()
        assert question.handled_at is not None and question.first_response_by == editor

        # Mine: the assigned question is there; the priority order puts open questions first.
        page.goto(inbox_url + "?assignee=mine")
        assert page.locator(".cv-item").count() == 1
        page.goto(inbox_url + "?order=priority")
        page.locator(".cv-item").first.wait_for()
        page.screenshot(path=str(shots / "conversations-priority-1440.png"))

        # The team's settings and the response-time panel, reached from the inbox header.
        page.get_by_role("link", name="Labels, replies & rules").click()
        page.locator("#saved-replies").wait_for()
        assert "Shop link" in page.locator("#saved-replies").inner_text()
        page.screenshot(path=str(shots / "conversations-team-1440.png"), full_page=True)
        page.get_by_role("link", name="Response times").click()
        page.get_by_test_id("median").wait_for()
        page.screenshot(path=str(shots / "conversations-response-times-1440.png"))
        # The fixture account's figures, as computed by hand.
        page.select_option("select[name=account]", str(fixture_account.pk))
        page.wait_for_url(f"**account={fixture_account.pk}*")
        assert page.get_by_test_id("median").inner_text() == "25 min"
        assert page.get_by_test_id("p90").inner_text() == "37 min"
        assert page.get_by_test_id("overdue").inner_text() == "1"
        # A chosen period (whole days in the workspace's time zone) keeps the account.
        today = timezone.now().astimezone(workspace.tz).date()
        page.fill("input[name=start]", (today - dt.timedelta(days=2)).isoformat())
        page.fill("input[name=end]", today.isoformat())
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(f"**end={today.isoformat()}*")
        assert page.get_by_test_id("period").inner_text().startswith("Threads started from")
        assert page.get_by_test_id("median").inner_text() == "25 min"
        assert page.get_by_test_id("overdue").inner_text() == "1"
        page.get_by_role("link", name="30 days").click()
        page.wait_for_url("**days=30*")
        assert page.get_by_test_id("period").inner_text().startswith("Threads started in the")

    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 390, "height": 844}
    ) as phone:
        phone.goto(inbox_url)
        phone.locator(f"#c-{question.pk}").wait_for()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways at phone width ({width}px)"
        phone.screenshot(path=str(shots / "conversations-inbox-390.png"), full_page=True)
        # A tap on a row shows its actions; "More" opens as a sheet inside the screen.
        phone.locator(f"#c-{question.pk} [data-testid=comment-text]").click()
        phone.locator(f"#c-{question.pk} [data-more] > summary").click()
        menu = phone.locator(f"#c-{question.pk} .cv-menu").bounding_box()
        assert menu is not None and menu["x"] >= 0 and menu["x"] + menu["width"] <= 390
        phone.screenshot(path=str(shots / "conversations-more-390.png"))
        phone.keyboard.press("Escape")

        # Reply inline at phone width: the box opens under the comment, the reply shows there.
        fan = (
            Comment.objects.for_workspace(workspace)
            .filter(account=account, is_own=False, is_hidden=False, handled_at__isnull=True)
            .exclude(pk=question.pk)
            .order_by("-created_at_tiktok")
            .first()
        )
        assert fan is not None
        row = phone.locator(f"#c-{fan.pk}")
        row.locator("[data-testid=comment-text]").click()
        row.locator("button[data-action=reply]").click()
        row.locator("textarea[name=text]").fill("Thank you, see you Saturday! 📱")
        row.locator("[data-reply-submit]").click()
        sent = phone.locator(f"#c-{fan.pk} [data-testid=sent-reply]")
        sent.wait_for()
        assert "Thank you, see you Saturday! 📱" in sent.inner_text()
        assert any(
            c.owner and c.text == "Thank you, see you Saturday! 📱"
            for c in csim.state.comments.values()
        )
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the inbox scrolls sideways after a reply at phone width ({width}px)"
        phone.screenshot(path=str(shots / "conversations-reply-390.png"), full_page=True)


def test_rule_dry_run_then_hide_and_undo_in_the_thread_and_a_kept_sentiment(
    csim: CommentSim,
    workspace: Workspace,
    owner: User,
    live_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule previewed on the last 30 days, switched on, hiding a new comment on TikTok; the
    thread says which rule did it and one click undoes it. A person's sentiment reading
    survives a reload."""
    from conversations import tasks

    # The rules task right after the sync's commit, in this process (no worker here).
    monkeypatch.setattr(
        tasks.apply_moderation_rules, "delay", lambda **kw: tasks.apply_moderation_rules(**kw)
    )
    account = connect_business_account(csim, workspace)
    video = seed_videos(account, limit=1, skip=3)[0]
    old_spam_id = csim.fan_comment(video.video_id, "crypto giveaway, DM me")
    comment_sync_account(account=account, budget=roomy_budget(account))
    shots = django_settings.BASE_DIR / "var"

    with signed_in_page(
        user=owner, base_url=live_server.url, viewport={"width": 1440, "height": 900}
    ) as page:
        page.goto(live_server.url + reverse("conversations:rule_new", args=[workspace.pk]))
        page.fill("#r-name", "No crypto")
        page.fill("#r-words", "crypto")
        page.get_by_test_id("dry-run").click()
        result = page.get_by_test_id("dry-run-result")
        result.wait_for()
        assert result.inner_text() == "Would have acted on 1 comment"
        assert "crypto giveaway, DM me" in result.locator("xpath=..").inner_text()
        page.screenshot(path=str(shots / "conversations-rule-dry-run-1440.png"))
        assert not ModerationRule.objects.for_workspace(workspace).exists()
        assert csim.state.comments[old_spam_id].status == "PUBLIC"

        page.check("input[name=is_enabled]")
        page.get_by_role("button", name="Save rule").click()
        page.wait_for_url(f"**{reverse('conversations:team', args=[workspace.pk])}**")
        rule = ModerationRule.objects.for_workspace(workspace).get()
        assert rule.is_enabled and rule.blocked_words == ["crypto"]

        # A new comment with the word arrives; the next sync stores it and the rule hides it.
        spam_id = csim.fan_comment(video.video_id, "Free CRYPTO for the first 100")
        comment_sync_account(
            account=account,
            budget=roomy_budget(account),
            now=timezone.now() + dt.timedelta(days=3),
        )
        assert csim.state.comments[spam_id].status == "HIDDEN"
        assert csim.state.comments[old_spam_id].status == "PUBLIC"  # rules act on arrivals
        spam = Comment.objects.for_workspace(workspace).get(comment_id=spam_id)

        page.goto(live_server.url + reverse("conversations:post", args=[workspace.pk, video.pk]))
        run_line = page.locator(f"#c-{spam.pk} [data-testid=rule-run]")
        assert run_line.inner_text().startswith("Hidden by rule “No crypto”")
        page.locator(f"#c-{spam.pk} [data-testid=hidden-badge]").wait_for()
        page.screenshot(path=str(shots / "conversations-rule-undo-1440.png"))
        run_line.get_by_test_id("undo").click()
        page.locator(f"#c-{spam.pk} [data-testid=rule-run]", has_text="Undone").wait_for()
        assert page.locator(f"#c-{spam.pk} [data-testid=hidden-badge]").count() == 0
        assert csim.state.comments[spam_id].status == "PUBLIC"
        run = RuleRun.objects.for_workspace(workspace).get()
        assert run.status == RuleRunStatus.UNDONE and run.undone_by == owner

        # Sentiment: the person reads a neutral comment as negative; a reload keeps it.
        calm = (
            Comment.objects.for_workspace(workspace)
            .filter(is_own=False, is_hidden=False, sentiment_override="")
            .exclude(sentiment="negative")
            .order_by("-created_at_tiktok")
            .first()
        )
        assert calm is not None
        inbox_url = live_server.url + reverse("conversations:inbox", args=[workspace.pk])
        page.goto(inbox_url)
        item = page.locator(f"#c-{calm.pk}")
        item.locator("[data-testid=comment-text]").click()
        item.locator("[data-more] > summary").click()
        item.get_by_test_id("sentiment-negative").click()
        page.locator(f"#c-{calm.pk} [data-testid=sentiment]", has_text="Negative").wait_for()
        page.reload()
        chip = page.locator(f"#c-{calm.pk} [data-testid=sentiment]")
        assert chip.inner_text() == "Negative"
        assert chip.get_attribute("title") == "Set by a person"
        calm.refresh_from_db()
        assert calm.sentiment_override == "negative" and calm.sentiment_override_by == owner


def test_inbox_header_counts_follow_a_reply_without_a_reload(
    csim: CommentSim, workspace: Workspace, live_server, browser_page
) -> None:
    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    newest = (
        Comment.objects.for_workspace(workspace)
        .filter(is_own=False, read_at__isnull=True, handled_at__isnull=True)
        .order_by("-created_at_tiktok", "-id")
        .first()
    )
    assert newest is not None
    before = inbox_counts(workspace=workspace)
    page = browser_page
    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))

    def shown(key: str) -> list[str]:
        return page.locator(f"[data-inbox-count={key}]").all_inner_texts()

    # Each count is shown twice, in the subtitle and on its filter chip.
    assert shown("unread") == [before["unread"]] * 2
    assert shown("open") == [before["open"]] * 2
    item = page.locator(f"#c-{newest.pk}")
    item.locator("button[data-action=reply]").click()
    item.locator("textarea[name=text]").fill("Thank you!")
    item.locator("[data-reply-submit]").click()
    page.locator(f"#c-{newest.pk} [data-testid=sent-reply]").wait_for()

    after = inbox_counts(workspace=workspace)
    assert int(after["unread"]) == int(before["unread"]) - 1
    assert int(after["open"]) == int(before["open"]) - 1
    assert shown("unread") == [after["unread"]] * 2
    assert shown("open") == [after["open"]] * 2
    assert shown("questions") == [after["questions"]]
