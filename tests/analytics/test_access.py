"""Roles and tenancy: outsiders and foreign ids get 404 on every analytics route."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User, Workspace
from tests.analytics.isolation import FOREIGN_OBJECTS
from tests.analytics.seed import seed_hand_computed

pytestmark = pytest.mark.django_db

PAGES = ("analytics:overview", "analytics:export_account", "analytics:export_posts")


def test_outsider_gets_404_and_viewer_can_read(
    workspace: Workspace, viewer: User, outsider: User, client_for: Callable[[User], Client]
) -> None:
    for name in PAGES:
        url = reverse(name, args=[workspace.id])
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(viewer).get(url).status_code == 200


def test_foreign_video_is_404_in_html_and_api(
    workspace: Workspace,
    other_workspace: Workspace,
    owner: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
) -> None:
    _, own = seed_hand_computed(workspace)
    foreign = FOREIGN_OBJECTS["video_id"](other_workspace)
    client = client_for(owner)
    assert client.get(reverse("analytics:video", args=[workspace.id, own.pk])).status_code == 200
    page = client.get(reverse("analytics:video", args=[workspace.id, foreign]))
    assert page.status_code == 404 and b"foreign video" not in page.content
    api = api_client_for(owner)
    assert api.get(reverse("analytics:api_video", args=[workspace.id, foreign])).status_code == 404
    listing = api.get(reverse("analytics:api_videos", args=[workspace.id]), {"range": "90"})
    assert foreign not in listing.content.decode()


def test_api_outsider_404(
    workspace: Workspace, outsider: User, api_client_for: Callable[[User], APIClient]
) -> None:
    for name in ("analytics:api_overview", "analytics:api_videos"):
        response = api_client_for(outsider).get(reverse(name, args=[workspace.id]))
        assert response.status_code == 404
