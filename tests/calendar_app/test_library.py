"""Caption templates and hashtag groups: services, API, page, and the composer's Insert menus."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calendar_app import library
from calendar_app.models import CaptionTemplate, HashtagGroup
from later.errors import AppError
from later.idempotency import FORM_FIELD

pytestmark = pytest.mark.django_db


def test_hashtags_are_cleaned_and_checked(workspace):
    group = library.hashtag_group_create(
        workspace=workspace, name=" Bakery ", hashtags="bread, #Sourdough #bread breadtok"
    )
    assert (group.name, group.hashtags) == ("Bakery", "#bread #Sourdough #breadtok")
    for bad, code in [
        ("#no#way", "invalid_hashtag"),
        ("", "hashtags_required"),
        ("a@b", "invalid_hashtag"),
    ]:
        with pytest.raises(AppError) as exc:
            library.hashtag_group_create(workspace=workspace, name=f"x{bad}", hashtags=bad)
        assert exc.value.code == code
    with pytest.raises(AppError) as exc:
        library.hashtag_group_create(workspace=workspace, name="bakery", hashtags="#a")
    assert exc.value.code == "name_taken"


def test_templates_refuse_empty_and_overlong_text(workspace):
    with pytest.raises(AppError) as exc:
        library.caption_template_create(workspace=workspace, name="x", body="   ")
    assert exc.value.code == "body_required"
    with pytest.raises(AppError) as exc:
        library.caption_template_create(workspace=workspace, name="x", body="😀" * 1101)
    assert exc.value.code == "body_too_long"  # 2,202 UTF-16 units


def test_library_api(workspace, other_workspace, editor, viewer, api_client_for):
    api = api_client_for(editor)
    url = reverse("calendar_app:api_caption_templates", args=[workspace.id])
    made = api.post(url, {"name": "Launch", "body": "New drop! Link in bio."}, format="json")
    assert made.status_code == 201, made.content
    assert api.post(url, {"name": "launch", "body": "x"}, format="json").status_code == 409
    assert [t["name"] for t in api_client_for(viewer).get(url).json()] == ["Launch"]
    assert api_client_for(viewer).post(url, {"name": "a", "body": "b"}).status_code == 403
    groups = reverse("calendar_app:api_hashtag_groups", args=[workspace.id])
    group = api.post(groups, {"name": "Bread", "hashtags": "bread sourdough"}, format="json")
    assert group.status_code == 201 and group.json()["hashtags"] == "#bread #sourdough"
    assert (
        api.post(groups, {"name": "Bad", "hashtags": "two words#"}, format="json").status_code
        == 400
    )
    foreign = CaptionTemplate.objects.create(workspace=other_workspace, name="x", body="y")
    assert (
        api.delete(
            reverse("calendar_app:api_caption_template", args=[workspace.id, foreign.id])
        ).status_code
        == 404
    )
    assert (
        api.delete(
            reverse("calendar_app:api_caption_template", args=[workspace.id, made.json()["id"]])
        ).status_code
        == 204
    )
    assert (
        api.delete(
            reverse("calendar_app:api_hashtag_group", args=[workspace.id, group.json()["id"]])
        ).status_code
        == 204
    )
    assert not CaptionTemplate.objects.for_workspace(workspace).exists()
    assert not HashtagGroup.objects.for_workspace(workspace).exists()


def test_library_page_keeps_input_on_error_and_composer_offers_inserts(
    workspace, editor, client_for
):
    client = client_for(editor)
    url = reverse("calendar_app:caption_library", args=[workspace.id])
    page = client.get(url).content.decode()
    token = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', page)
    assert token is not None
    bad = client.post(url, {"kind": "hashtags", "name": "Bread", "hashtags": "#ok #not ok#"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "is not a hashtag" in html and 'value="#ok #not ok#"' in html
    data = {
        "kind": "template",
        "name": "Friday",
        "body": "New drop every Friday 🎉",
        FORM_FIELD: token.group(1),
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form again adds nothing
    assert CaptionTemplate.objects.for_workspace(workspace).count() == 1
    library.hashtag_group_create(workspace=workspace, name="Bread", hashtags="#bread #sourdough")
    composer = client.get(reverse("calendar_app:post_create", args=[workspace.id])).content.decode()
    assert 'data-text="New drop every Friday 🎉"' in composer
    assert 'data-text="#bread #sourdough"' in composer
    assert 'data-role="best-times"' in composer and "/analytics/best-times/" in composer
    assert 'data-role="caption-over"' in composer
