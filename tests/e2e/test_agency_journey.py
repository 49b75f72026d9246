"""Journey 2: an agency user with two client workspaces switches between them with the
workspace switcher; each workspace shows only its own accounts, posts, comments and numbers."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import AccountType, Role, TikTokAccount, User, Workspace
from tests.e2e.helpers import seed_client
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _client(user: User, name: str, handle: str, role: str) -> dict[str, Any]:
    workspace = WorkspaceFactory.create(name=name, time_zone="Europe/Paris")
    MembershipFactory.create(workspace=workspace, user=user, role=role)
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id=f"open-{handle}",
        username=handle,
        display_name=name,
        account_type=AccountType.BUSINESS,
        scopes=["user.info.basic", "video.list", "comment.list", "comment.list.manage"],
    )
    seeded = seed_client(workspace, account, label=name.split()[0])
    return {"workspace": workspace, "account": account, **seeded}


def _pages(ws: Workspace, seeded: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each page of the workspace and the own texts it must show."""
    day = seeded["scheduled"].scheduled_local[:10]
    return [
        (
            reverse("calendar_app:calendar", args=[ws.id]) + f"?date={day}",
            [seeded["scheduled"].caption[:40]],
        ),
        (reverse("calendar_app:calendar", args=[ws.id]) + "?view=list", []),
        (
            reverse("calendar_app:post_detail", args=[ws.id, seeded["published"].id]),
            [seeded["published"].caption],
        ),
        (reverse("accounts:tiktok_accounts", args=[ws.id]), [seeded["account"].username]),
        (reverse("calendar_app:media", args=[ws.id]), []),
        (reverse("conversations:inbox", args=[ws.id]), [seeded["comment"].text]),
        (
            reverse("conversations:post", args=[ws.id, seeded["video"].id]),
            [seeded["comment"].text],
        ),
        (
            reverse("conversations:person", args=[ws.id, seeded["comment"].person_ref]),
            [seeded["comment"].text],
        ),
        (reverse("analytics:overview", args=[ws.id]), [seeded["published"].caption]),
        (
            reverse("analytics:video", args=[ws.id, seeded["video"].id]),
            [seeded["published"].caption],
        ),
        (reverse("accounts:members", args=[ws.id]), []),
    ]


def test_agency_user_switches_between_client_workspaces(
    live_server: Any, open_page: Any, media_root: str
) -> None:
    agency = UserFactory.create(email="agency@example.com")
    bakery = _client(agency, "Northwind Bakery", "northwind.bakery", Role.OWNER)
    gym = _client(agency, "Bluebird Fitness", "bluebird.fit", Role.EDITOR)
    page = open_page(agency)
    page.goto(live_server.url + "/")

    for current, other in ((bakery, gym), (gym, bakery), (bakery, gym)):
        ws = current["workspace"]
        page.get_by_test_id("workspace-switcher").locator("summary").click()
        menu = page.get_by_test_id("workspace-switcher")
        menu.get_by_role("link", name=ws.name).click()
        page.wait_for_url(f"**/w/{ws.id}/calendar/")
        switcher_name = page.locator(".switcher-name").inner_text()
        assert switcher_name == ws.name

        for path, own_texts in _pages(ws, current):
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            html = page.content()
            main = page.locator("main").inner_text()
            for text in own_texts:
                assert text in html, (path, text)
            for text in other["texts"]:
                assert text not in html, (path, text)
            # Outside the switcher menu the other client is not even named.
            assert other["workspace"].name not in main, path
            assert page.locator(".switcher-name").inner_text() == ws.name
        # The logo (home) returns to the workspace last switched to.
        page.locator("a.brand").click()
        page.wait_for_url(f"**/w/{ws.id}/calendar/")

    # The other client's objects are not reachable through this workspace's URLs either.
    response = page.goto(
        live_server.url
        + reverse("calendar_app:post_detail", args=[gym["workspace"].id, bakery["published"].id])
    )
    assert response is not None and response.status == 404
    assert bakery["published"].caption not in page.content()
    response = page.request.get(
        live_server.url
        + reverse("conversations:post", args=[bakery["workspace"].id, gym["video"].id])
    )
    assert response.status == 404
