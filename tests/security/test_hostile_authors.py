"""TikTok's commenter identifiers never reach a URL path raw: people route by the product's id."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User, Workspace
from conversations.models import person_key_from_ref, person_ref
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db

HOSTILE_KEYS = ["a/b", "../../admin/", "?x=1#y", "%2F%00", "ünï/cödé 🎉", " ", "a" * 128]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_person_ref_round_trips_and_is_url_safe(key: str) -> None:
    ref = person_ref(key)
    assert set(ref) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert person_key_from_ref(ref) == key


@pytest.mark.parametrize("ref", ["", "====", "a", "abc!", "YQ", "YWI=", "AA"])
def test_refs_the_product_did_not_make_are_refused(ref: str) -> None:
    # "YQ" is "a" but padded forms and NUL keys are not ours; only canonical encodings route.
    if ref == "YQ":
        assert person_key_from_ref(ref) == "a"
        return
    assert person_key_from_ref(ref) is None


def test_inbox_live_poll_and_person_page_survive_a_slash_in_the_commenter_id(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    video = make_video(make_account(workspace))
    comment = make_comment(video, author_key="fan/with/slashes?and#more", text="hello there")
    make_comment(video, author_key="someone-else", text="not them")
    client = client_for(owner)

    inbox = client.get(reverse("conversations:inbox", args=[workspace.pk]))
    assert inbox.status_code == 200
    person_url = reverse("conversations:person", args=[workspace.pk, comment.person_ref])
    assert person_url.encode() in inbox.content
    assert b"people/fan/with" not in inbox.content

    poll = client.get(reverse("conversations:inbox_new", args=[workspace.pk]) + "?since=0")
    assert poll.status_code == 200

    person = client.get(person_url)
    assert person.status_code == 200
    assert b"hello there" in person.content and b"not them" not in person.content


def test_person_page_with_a_forged_ref_is_404(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    for ref in ["AA", "abc", person_ref("nobody-here")]:
        url = f"/w/{workspace.pk}/conversations/people/{ref}/"
        assert client.get(url).status_code == 404, ref
