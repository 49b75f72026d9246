"""The installable app: manifest, service worker at the root scope, offline page, device alerts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from accounts.models import Notification
from accounts.services import notification_notify_members
from tests.a11y.conftest import FullWorkspace
from tests.browser import wait_for_js


def test_favicon_ico_answers_with_the_logo(client: Client) -> None:
    # The admin's pages have no <link rel="icon">: the browser asked for /favicon.ico and got 404.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("img/logo.svg")


def test_manifest_describes_an_installable_app(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/"
    assert manifest["start_url"].startswith("/")
    assert manifest["name"] == "Later for TikTok" and manifest["short_name"]
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert icon["src"].startswith(settings.STATIC_URL)
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])


def test_service_worker_is_served_from_the_root_scope(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert reverse("offline") in body
    assert "&quot;" not in body  # the config is JavaScript, not HTML-escaped text


def test_offline_page_needs_no_session(client: Client) -> None:
    response = client.get(reverse("offline"))
    assert response.status_code == 200
    assert b"You are offline" in response.content


def test_every_page_links_the_manifest(client: Client) -> None:
    page = client.get(reverse("account_login")).content.decode()
    assert 'rel="manifest"' in page and 'href="/manifest.webmanifest"' in page


def test_notification_feed_lists_only_my_unread_notes(
    client_for: Any, owner: Any, editor: Any, workspace: Any, other_workspace: Any
) -> None:
    notification_notify_members(
        workspace=workspace, kind="post_failed", title="Post failed", url="/x"
    )
    Notification.objects.for_workspace(workspace).filter(user=editor).update(
        read_at="2026-01-01T00:00Z"
    )
    data = client_for(owner).get(reverse("accounts:notifications_feed", args=[workspace.id])).json()
    assert data["unread"] == 1
    assert data["notifications"][0]["title"] == "Post failed"
    assert data["notifications"][0]["url"] == "/x"
    assert (
        client_for(editor)
        .get(reverse("accounts:notifications_feed", args=[workspace.id]))
        .json()["unread"]
        == 0
    )
    assert (
        client_for(owner)
        .get(reverse("accounts:notifications_feed", args=[other_workspace.id]))
        .status_code
        == 404
    )


@pytest.mark.browser
def test_installed_app_works_offline_and_shows_allowed_alerts(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 390, permissions=["notifications"])
    # Device alerts are recorded instead of shown, on every page.
    page.add_init_script(
        """window.__shown = [];
        ServiceWorkerRegistration.prototype.showNotification = function (title) {
            window.__shown.push(title); return Promise.resolve(); };"""
    )
    page.goto(live_server.url + "/?source=app")
    assert "/calendar/" in page.url  # the app opens to the calendar
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server.url + "/"
    page.reload()
    wait_for_js(page, "navigator.serviceWorker.controller !== null")

    # Allowed notifications show while the app is open.
    page.evaluate("window.Later.pollNotifications()")
    notification_notify_members(
        workspace=full.workspace,
        kind="comment_assigned",
        title="A comment was assigned to you",
        url=f"/w/{full.workspace.id}/conversations/",
    )
    page.evaluate("window.Later.pollNotifications()")
    wait_for_js(page, "window.__shown.length === 1")
    assert page.evaluate("window.__shown") == ["A comment was assigned to you"]
    assert page.locator("details.notifications .dot").inner_text() == "2"
    # One that arrives between two pages shows on the next one; the ones already seen do not.
    notification_notify_members(
        workspace=full.workspace, kind="post_failed", title="Your 9:30 post failed", url="/"
    )
    page.goto(live_server.url + reverse("accounts:members", args=[full.workspace.id]))
    wait_for_js(page, "window.__shown.length === 1")
    assert page.evaluate("window.__shown") == ["Your 9:30 post failed"]

    # No network: the offline page, never a browser error.
    page.context.set_offline(True)
    page.goto(live_server.url + reverse("analytics:overview", args=[full.workspace.id]))
    assert page.get_by_test_id("offline-page").is_visible()
    page.context.set_offline(False)
    page.goto(live_server.url + reverse("analytics:overview", args=[full.workspace.id]))
    assert not page.get_by_test_id("offline-page").count()
