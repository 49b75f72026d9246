"""HTML views: Inbox / Post / User, filters, keyset pages, escaping, roles and isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, User, Workspace
from conversations import selectors
from conversations.models import Comment, person_ref
from conversations.sync import comment_sync_account
from tests.conversations.conftest import HIDE_PATH, CommentSim, roomy_budget
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db

XSS_TEXT = '<script>alert("pwned")</script>'
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture
def video(workspace: Workspace) -> TikTokVideo:
    return make_video(make_account(workspace), caption="Latte art <b>tutorial</b>")


def _inbox(workspace: Workspace, **params: str) -> str:
    url = reverse("conversations:inbox", args=[workspace.pk])
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def test_inbox_lists_newest_first_with_keyset_pages(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    now = timezone.now()
    for i in range(30):
        make_comment(
            video, text=f"message {i:02d}", created_at_tiktok=now - dt.timedelta(minutes=i)
        )
    client = client_for(owner)

    first = client.get(_inbox(workspace))
    assert first.status_code == 200
    body = first.content.decode()
    assert body.index("message 00") < body.index("message 01") < body.index("message 24")
    assert "message 25" not in body
    cursor = first.context["page"].next_cursor
    assert cursor

    second = client.get(_inbox(workspace, cursor=cursor)).content.decode()
    assert "message 25" in second and "message 29" in second and "message 24" not in second

    broken = client.get(_inbox(workspace, cursor="not-a-cursor"))
    assert broken.status_code == 200
    assert "no longer valid" in broken.content.decode()


def test_inbox_page_query_count_is_flat(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    client_for: Callable[[User], Client],
    django_assert_max_num_queries,
) -> None:
    from conversations.models import CommentLabel, Label, ModerationRule, RuleRun, ThreadNote

    parent = make_comment(video)
    lead = Label.objects.create(workspace=workspace, name="lead")
    rule = ModerationRule.objects.create(workspace=workspace, name="r", blocked_words=["x"])
    for n in range(20):
        reply = make_comment(video, parent=parent, assignee=owner, is_question=n % 2 == 0)
        CommentLabel.objects.create(workspace=workspace, comment=reply, label=lead)
        RuleRun.objects.create(
            workspace=workspace, rule=rule, comment=reply, action="label", status="done"
        )
        ThreadNote.objects.create(workspace=workspace, comment=parent, text=f"note {n}")
    client = client_for(owner)
    # Opening a workspace for the first time in a session writes the session and remembers it
    # as the person's last workspace: once per switch, not per page view.
    client.get(_inbox(workspace))
    # Session, user, membership; page, labels, rule runs; the team menus (labels, members,
    # saved replies); response-time summary; the chip counts (one query); then base.html's own.
    # An unchanged session is not written back.
    for params in ({}, {"order": "priority"}, {"assignee": "mine", "label": str(lead.pk)}):
        with django_assert_max_num_queries(17):
            response = client.get(_inbox(workspace, **params))
        assert response.status_code == 200
        assert len(response.context["page"].comments) == 21 or params


def test_inbox_filters_search_and_account(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    other_video = make_video(make_account(workspace))
    unread = make_comment(video, text="where is the shop?")
    handled = make_comment(video, text="love it", handled_at=timezone.now(), read_at=timezone.now())
    by_name = make_comment(other_video, text="hi", author_username="latte_lover")
    make_comment(video, text="our own reply", is_own=True)
    client = client_for(owner)

    def shown(**params: str) -> set[str]:
        page = client.get(_inbox(workspace, **params)).context["page"]
        return {c.text for c in page.comments}

    assert shown() == {unread.text, handled.text, by_name.text}
    assert shown(status="unread") == {unread.text, by_name.text}
    assert shown(status="handled") == {handled.text}
    assert shown(status="open") == {unread.text, by_name.text}
    assert shown(q="SHOP") == {unread.text}
    assert shown(q="@latte") == {by_name.text}
    assert shown(q="%") == set()  # LIKE wildcards are searched for, not obeyed
    assert shown(q="Fan") == {unread.text, handled.text, by_name.text}  # display names
    assert shown(account=str(other_video.account_id)) == {by_name.text}
    assert client.get(_inbox(workspace, status="bogus")).status_code == 200


def test_untrusted_text_is_escaped_on_every_page(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    since = str(int((timezone.now() - dt.timedelta(seconds=5)).timestamp() * 1_000_000))
    evil = make_comment(
        video,
        text=XSS_TEXT,
        author_display_name=XSS_NAME,
        author_username='"><svg onload=alert(2)>',
        author_key="evil-key",
        author_avatar_url="javascript:alert(3)",
    )
    make_comment(video, parent=evil, text=XSS_TEXT)
    client = client_for(owner)
    pages = [
        _inbox(workspace),
        reverse("conversations:post", args=[workspace.pk, video.pk]),
        reverse("conversations:person", args=[workspace.pk, person_ref("evil-key")]),
        reverse("conversations:inbox_new", args=[workspace.pk]) + f"?since={since}",
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in body, url
        assert XSS_TEXT not in body, url
        assert XSS_NAME not in body and "<svg onload" not in body, url
        assert "javascript:alert(3)" not in body, url
    post = client.get(pages[1]).content.decode()
    assert "Latte art &lt;b&gt;tutorial&lt;/b&gt;" in post


def test_the_inbox_shows_a_commenters_avatar_from_tiktok_or_the_local_simulator(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    cdn = "https://p16-sign.tiktokcdn.com/avatar/fan.jpeg"
    simulator = "http://127.0.0.1:8765/_sim/media/avatar?open_id=fan-mila-1&name=Mila"
    make_comment(video, text="from TikTok", author_avatar_url=cdn)
    make_comment(video, text="from the simulator", author_avatar_url=simulator)
    body = client_for(owner).get(_inbox(workspace)).content.decode()
    assert f'<img class="avatar" src="{cdn}"' in body
    assert f'<img class="avatar" src="{simulator.replace("&", "&amp;")}"' in body


def test_post_covers_show_from_tiktok_or_the_local_simulator_never_other_schemes(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    """The quick start's simulator serves covers over http://localhost: the inbox shows them."""
    covers = {
        "https://p16-sign.tiktokcdn.com/cover/1.jpeg": True,
        "http://127.0.0.1:8765/_sim/media/cover?video_id=v1&x-expires=9": True,
        "javascript:alert(4)": False,
        "data:image/png;base64,AAAA": False,
        "httpx://127.0.0.1/cover.jpeg": False,
        "http:///no-host.jpeg": False,
    }
    videos = {url: make_video(video.account, cover_image_url=url) for url in covers}
    for url, item in videos.items():
        make_comment(item, text=f"on {url}")
    client = client_for(owner)
    inbox = client.get(_inbox(workspace)).content.decode()
    for url, item in videos.items():
        tag = f'src="{url.replace("&", "&amp;")}"'
        assert (tag in inbox) is covers[url], url
        post = client.get(reverse("conversations:post", args=[workspace.pk, item.pk]))
        assert (tag in post.content.decode()) is covers[url], url


def test_post_view_shows_the_video_beside_its_threads(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    thread = make_comment(video, text="first!")
    make_comment(video, parent=thread, text="second!")
    make_comment(video, parent=thread, text="our answer", is_own=True)
    make_comment(make_video(video.account), text="elsewhere")
    response = client_for(owner).get(reverse("conversations:post", args=[workspace.pk, video.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Latte art" in body and "first!" in body and "second!" in body and "our answer" in body
    assert "elsewhere" not in body
    assert body.index("first!") < body.index("second!")


def test_user_view_shows_one_commenter_across_posts(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    other = make_video(video.account)
    make_comment(video, author_key="fan-42", author_display_name="Zoe", text="on one")
    make_comment(other, author_key="fan-42", author_display_name="Zoe", text="on two")
    make_comment(video, author_key="fan-7", text="someone else")
    response = client_for(owner).get(
        reverse("conversations:person", args=[workspace.pk, person_ref("fan-42")])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "on one" in body and "on two" in body and "someone else" not in body
    missing = client_for(owner).get(
        reverse("conversations:person", args=[workspace.pk, person_ref("nobody")])
    )
    assert missing.status_code == 404


def test_new_since_fragment_returns_only_new_comments(
    workspace: Workspace, video: TikTokVideo, owner: User, client_for: Callable[[User], Client]
) -> None:
    make_comment(video, text="old news")
    since = str(int(timezone.now().timestamp() * 1_000_000))
    make_comment(video, text="fresh comment")
    url = reverse("conversations:inbox_new", args=[workspace.pk]) + f"?since={since}"
    body = client_for(owner).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "fresh comment" in body and "old news" not in body
    assert 'hx-swap-oob="afterbegin:#cv-list"' in body
    assert 'id="cv-poller"' in body


@pytest.mark.parametrize("since", ["abc", "99999999999999999999999", "-99999999999999999999999"])
def test_new_since_fragment_takes_any_since_without_an_error(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    client_for: Callable[[User], Client],
    since: str,
) -> None:
    # A value the clock cannot hold (the platform's time_t overflows) counts as "from now".
    make_comment(video, text="old news")
    url = reverse("conversations:inbox_new", args=[workspace.pk]) + f"?since={since}"
    response = client_for(owner).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "old news" not in response.content.decode()


def test_viewer_reads_but_cannot_moderate(
    workspace: Workspace, video: TikTokVideo, viewer: User, client_for: Callable[[User], Client]
) -> None:
    comment = make_comment(video)
    client = client_for(viewer)
    page = client.get(_inbox(workspace)).content.decode()
    assert comment.text in page
    assert "Send reply" not in page and 'data-key="e"' not in page and "cv-more" not in page
    for name in ("conversations:comment_hide", "conversations:comment_handled"):
        response = client.post(reverse(name, args=[workspace.pk, comment.pk]))
        assert response.status_code == 403
        assert "needs the" in response.content.decode()
    response = client.post(
        reverse("conversations:reply", args=[workspace.pk, comment.pk]), {"text": "hi"}
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.handled_at is None


def test_outsiders_and_foreign_ids_get_404(
    workspace: Workspace,
    other_workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    outsider: User,
    client_for: Callable[[User], Client],
) -> None:
    mine = make_comment(video, author_key="shared-fan")
    foreign_video = make_video(make_account(other_workspace))
    foreign = make_comment(foreign_video, author_key="foreign-only", text="secret")

    assert client_for(outsider).get(_inbox(workspace)).status_code == 404
    client = client_for(owner)
    urls = [
        reverse("conversations:post", args=[workspace.pk, foreign_video.pk]),
        reverse("conversations:person", args=[workspace.pk, person_ref("foreign-only")]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404
    for name in (
        "conversations:comment_hide",
        "conversations:comment_handled",
        "conversations:reply",
    ):
        response = client.post(reverse(name, args=[workspace.pk, foreign.pk]), {"text": "x"})
        assert response.status_code == 404
        assert client.get(reverse(name, args=[workspace.pk, foreign.pk])).status_code == 404
    # The same fan commenting in both workspaces: each workspace sees only its own comments.
    make_comment(foreign_video, author_key="shared-fan", text="secret elsewhere")
    body = client.get(
        reverse("conversations:person", args=[workspace.pk, person_ref("shared-fan")])
    ).content
    assert mine.text.encode() in body and b"secret elsewhere" not in body
    bulk = client.post(
        reverse("conversations:bulk", args=[workspace.pk]),
        {"ids": [str(foreign.pk)], "action": "handled"},
    )
    assert bulk.status_code == 302
    foreign.refresh_from_db()
    assert foreign.handled_at is None


def test_local_actions_and_bulk(
    workspace: Workspace, video: TikTokVideo, editor: User, client_for: Callable[[User], Client]
) -> None:
    one, two = make_comment(video), make_comment(video)
    client = client_for(editor)
    response = client.post(
        reverse("conversations:comment_handled", args=[workspace.pk, one.pk]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Reopen" in response.content.decode()
    one.refresh_from_db()
    assert one.handled_at is not None and one.handled_by == editor

    response = client.post(
        reverse("conversations:bulk", args=[workspace.pk]),
        {"ids": [str(one.pk), str(two.pk)], "action": "unread", "next": _inbox(workspace)},
    )
    assert response.status_code == 302 and response["Location"] == _inbox(workspace)
    assert not Comment.objects.for_workspace(workspace).filter(read_at__isnull=False).exists()


@pytest.fixture
def synced_account(csim: CommentSim, workspace: Workspace) -> TikTokAccount:
    from tests.conversations.conftest import connect_business_account, seed_videos

    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    return account


def _first_fan_comment(workspace: Workspace) -> Comment:
    comment = (
        Comment.objects.for_workspace(workspace)
        .filter(parent__isnull=True)
        .order_by("-created_at_tiktok")
        .first()
    )
    assert comment is not None
    return comment


def test_htmx_reply_and_hide_against_tiktok(
    csim: CommentSim,
    workspace: Workspace,
    synced_account: TikTokAccount,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    comment = _first_fan_comment(workspace)
    client = client_for(editor)
    url = reverse("conversations:reply", args=[workspace.pk, comment.pk])

    too_long = client.post(url, {"text": "é" * 151}, HTTP_HX_REQUEST="true").content.decode()
    assert "this one has 151" in too_long
    assert "é" * 151 in too_long  # the draft is kept

    sent = client.post(url, {"text": "See you <soon>!"}, HTTP_HX_REQUEST="true").content.decode()
    assert "You replied:" in sent and "See you &lt;soon&gt;!" in sent and "Sent" in sent
    assert any(c.owner and c.text == "See you <soon>!" for c in csim.state.comments.values())

    csim.fault(HIDE_PATH, "http_500")
    hide = reverse("conversations:comment_hide", args=[workspace.pk, comment.pk])
    refused = client.post(hide, HTTP_HX_REQUEST="true").content.decode()
    assert "TikTok did not hide the comment." in refused
    ok = client.post(hide, HTTP_HX_REQUEST="true").content.decode()
    assert "Hidden" in ok and "Unhide" in ok
    assert csim.state.comments[comment.comment_id].status == "HIDDEN"


def test_reply_failure_without_htmx_keeps_the_draft(
    csim: CommentSim,
    workspace: Workspace,
    synced_account: TikTokAccount,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    comment = _first_fan_comment(workspace)
    csim.state.comments[comment.comment_id].deleted = True
    response = client_for(editor).post(
        reverse("conversations:reply", args=[workspace.pk, comment.pk]),
        {"text": "My careful words"},
    )
    body = response.content.decode()
    assert response.status_code == 502
    assert "TikTok did not post the reply." in body and "My careful words" in body


def test_filter_chip_counts_are_capped(
    workspace: Workspace, video: TikTokVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conversations import selectors

    for _ in range(4):
        make_comment(video)
    make_comment(video, read_at=timezone.now(), handled_at=timezone.now())
    make_comment(video, is_question=True)
    assert selectors.inbox_counts(workspace=workspace) == {
        "unread": "5",
        "open": "5",
        "questions": "1",
    }
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    assert selectors.inbox_counts(workspace=workspace) == {
        "unread": "2+",
        "open": "2+",
        "questions": "1",
    }


def test_reply_tiktok_did_not_confirm_is_shown_pending(
    csim: CommentSim,
    workspace: Workspace,
    synced_account: TikTokAccount,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    from tests.conversations.conftest import REPLY_CREATE_PATH

    comment = _first_fan_comment(workspace)
    csim.fault(REPLY_CREATE_PATH, "drop_after_accept")
    body = (
        client_for(editor)
        .post(
            reverse("conversations:reply", args=[workspace.pk, comment.pk]),
            {"text": "Are you there?"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "did not confirm the reply in time" in body
    assert 'data-testid="sent-reply"' in body and "Pending" in body and "Are you there?" in body


def test_action_from_the_post_view_keeps_the_thread_layout(
    workspace: Workspace, video: TikTokVideo, editor: User, client_for: Callable[[User], Client]
) -> None:
    thread = make_comment(video)
    reply = make_comment(video, parent=thread)
    post_url = reverse("conversations:post", args=[workspace.pk, video.pk])
    client = client_for(editor)
    for comment in (thread, reply):
        body = client.post(
            reverse("conversations:comment_read", args=[workspace.pk, comment.pk]),
            {"next": post_url},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        assert 'class="cv-post' not in body
    assert "is-compact" in body and "Reply to" not in body


def test_an_action_from_the_inbox_sends_the_new_header_counts_and_elsewhere_none(
    csim: CommentSim,
    workspace: Workspace,
    synced_account: TikTokAccount,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    comment = _first_fan_comment(workspace)
    client = client_for(editor)
    read = reverse("conversations:comment_read", args=[workspace.pk, comment.pk])
    unread = reverse("conversations:comment_unread", args=[workspace.pk, comment.pk])
    html = client.post(read, {"next": _inbox(workspace)}, HTTP_HX_REQUEST="true").content.decode()
    counts = selectors.inbox_counts(workspace=workspace)
    assert (
        f'<span hx-swap-oob="innerHTML:[data-inbox-count=unread]">{counts["unread"]}</span>' in html
    )
    assert f'<span hx-swap-oob="innerHTML:[data-inbox-count=open]">{counts["open"]}</span>' in html
    # The Post view shows no inbox counts: nothing for htmx to look for there.
    video = reverse("conversations:post", args=[workspace.pk, comment.video_id])
    html = client.post(unread, {"next": video}, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-swap-oob" not in html
