"""The fragment cache (later/fragments.py, `{% fragment %}`): a stored fragment is served while
the data under it is unchanged and never after it changed, whatever wrote the change."""

from __future__ import annotations

import pickle
import re
import uuid
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import TikTokVideo, User, Workspace
from conversations.models import Comment, CommentLabel, Label
from later import fragments
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(workspace: Workspace) -> TikTokVideo:
    return make_video(make_account(workspace), caption="Latte art")


@pytest.fixture
def count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys of the fragments rendered (cache misses) during the test."""
    rendered: list[str] = []
    original = fragments.fragment_set

    def spy(key: str, html: str, *args: object) -> None:
        # The inbox row's renders (the page around it is a fragment of its own,
        # keyed on the workspace's data version: tests/test_page_caching.py).
        if key.startswith("fragment:conversations:comment:"):
            rendered.append(key)
        original(key, html, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fragments, "fragment_set", spy)
    return rendered


def _inbox(workspace: Workspace) -> str:
    return reverse("conversations:inbox", args=[workspace.pk])


def _scoped(workspace: Workspace):
    return Comment.objects.for_workspace(workspace)


def test_fingerprint_follows_fields_relations_and_prefetched_rows(
    workspace: Workspace, video: TikTokVideo
) -> None:
    comment = make_comment(video, text="hello")

    def load() -> Comment:
        return (
            _scoped(workspace)
            .select_related("account", "video")
            .prefetch_related("label_links")
            .get(pk=comment.pk)
        )

    before = fragments.fingerprint(load())
    assert fragments.fingerprint(load()) == before  # same data, same key, in a new object

    _scoped(workspace).filter(pk=comment.pk).update(like_count=7)
    after_field = fragments.fingerprint(load())
    assert after_field != before

    TikTokVideo.objects.for_workspace(workspace).filter(pk=video.pk).update(caption="Renamed")
    after_related = fragments.fingerprint(load())
    assert after_related != after_field

    label = Label.objects.create(workspace=workspace, name="lead")
    CommentLabel.objects.create(workspace=workspace, comment=comment, label=label)
    assert fragments.fingerprint(load()) != after_related


def test_a_row_unpickled_from_a_cache_has_the_fingerprint_of_the_row(
    workspace: Workspace,
) -> None:
    loaded = Workspace.objects.get(pk=workspace.pk)
    assert fragments.fingerprint(pickle.loads(pickle.dumps(loaded))) == fragments.fingerprint(
        loaded
    )


def test_fingerprint_refuses_an_unevaluated_queryset(workspace: Workspace) -> None:
    with pytest.raises(TypeError):
        fragments.fingerprint(_scoped(workspace))


def test_inbox_row_is_served_from_cache_until_its_data_changes(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    client_for: Callable[[User], Client],
    count_renders: list[str],
) -> None:
    comment = make_comment(video, text="first words")
    client = client_for(owner)

    assert "first words" in client.get(_inbox(workspace)).content.decode()
    first_renders = len(count_renders)
    assert first_renders >= 1
    assert "first words" in client.get(_inbox(workspace)).content.decode()
    assert len(count_renders) == first_renders  # unchanged data: served, not rendered

    # Written the way the sync and the pipeline write: QuerySet.update(), no signal, no hook.
    _scoped(workspace).filter(pk=comment.pk).update(text="edited on TikTok", is_hidden=True)
    body = client.get(_inbox(workspace)).content.decode()
    assert "edited on TikTok" in body and "first words" not in body
    assert 'data-testid="hidden-badge"' in body
    assert len(count_renders) == first_renders + 1

    # A change in related data (the label's name) reaches the row too.
    label = Label.objects.create(workspace=workspace, name="lead")
    CommentLabel.objects.create(workspace=workspace, comment=comment, label=label)
    assert ">lead</span>" in client.get(_inbox(workspace)).content.decode()
    Label.objects.for_workspace(workspace).filter(pk=label.pk).update(name="hot lead")
    assert ">hot lead</span>" in client.get(_inbox(workspace)).content.decode()


def test_per_request_values_are_never_shared_by_a_cached_fragment(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    make_comment(video, text="fragmenthole csrf form_token")  # a fan cannot name the holes
    owner_client, editor_client = client_for(owner), client_for(editor)
    owner_client.get(_inbox(workspace))  # fills the cache
    first = owner_client.get(_inbox(workspace)).content.decode()
    second = owner_client.get(_inbox(workspace)).content.decode()
    other = editor_client.get(_inbox(workspace)).content.decode()

    def form_tokens(body: str) -> list[str]:
        return re.findall(r'name="form_token" value="([0-9a-f]+)"', body)

    assert form_tokens(first) and form_tokens(second)
    assert not set(form_tokens(first)) & set(form_tokens(second))  # fresh on every serve
    assert len(set(form_tokens(first))) == len(form_tokens(first))

    def csrf_tokens(body: str) -> set[str]:
        return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body))

    assert csrf_tokens(first) and csrf_tokens(other)
    assert fragments.hole("csrf") not in first + other
    assert fragments.hole("form_token") not in first + other
    assert "fragmenthole csrf form_token" in first


def test_code_version_is_stable_within_a_process() -> None:
    assert fragments.code_version() == fragments.code_version()
    assert re.fullmatch(r"[0-9a-f]{16}", fragments.code_version())


def test_readers_with_other_number_notations_get_their_own_fragment() -> None:
    from later.numbers import number_locale

    english = fragments.fragment_key("card", [1220])
    with number_locale("de"):
        german = fragments.fragment_key("card", [1220])
    assert english != german  # "1,220" and "1.220" never share a stored fragment
    assert fragments.fragment_key("card", [1220]) == english


def test_the_local_copy_is_bounded_by_characters_too() -> None:
    lru = fragments._LocalLRU(100, max_chars=1000)
    for n in range(10):
        lru.set(f"k{n}", "x" * 200)
    assert lru.chars <= 1000 and "k9" in lru.items and "k0" not in lru.items
    lru.set("huge", "x" * 600)  # over a quarter of the budget: left to the shared cache
    assert "huge" not in lru.items


def test_a_fragment_can_name_a_shorter_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.template import Context, Template

    stored: list[int] = []
    monkeypatch.setattr(
        fragments, "fragment_set", lambda key, html, timeout: stored.append(timeout)
    )
    Template('{% load fragments %}{% fragment "t" u timeout=180 %}x{% endfragment %}').render(
        Context({"u": uuid.uuid4().hex})
    )
    assert stored == [180]
