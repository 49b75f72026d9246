"""A strict Content-Security-Policy, and templates that need no exception to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User, Workspace

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
#: Documents that are never served as web pages: e-mail bodies and PDF sources carry their
#: stylesheet inline because mail clients and WeasyPrint load nothing else.
NOT_SERVED = {"analytics/templates/analytics/report_document.html"}
TEMPLATES = [
    p
    for d in ("templates", "accounts", "calendar_app", "conversations", "analytics")
    for p in (ROOT / d).rglob("*.html")
    if str(p.relative_to(ROOT)) not in NOT_SERVED
]


def _policy(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {part.split(" ", 1)[0]: part for part in header.split("; ")}


def test_every_page_and_api_answer_carries_a_strict_policy(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    for url in (
        reverse("calendar_app:calendar", args=[workspace.pk]),
        f"/api/v1/w/{workspace.pk}/",
        "/accounts/login/",
        "/api/docs/",
    ):
        policy = _policy(client.get(url))
        script = policy["script-src"]
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
        assert re.search(r"'nonce-[\w-]{16,}'", script)
        assert policy["default-src"] == "default-src 'self'"
        assert policy["object-src"] == "object-src 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert "'unsafe-inline'" not in policy["style-src"]


def test_nonces_differ_per_response(client: Client) -> None:
    first = _policy(client.get("/accounts/login/"))["script-src"]
    second = _policy(client.get("/accounts/login/"))["script-src"]
    assert first != second


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_no_inline_script_or_style(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler (use static/js)"
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or "application/json" in tag, tag
    assert "<style" not in text, "inline <style> (use static/css)"
    assert "javascript:" not in text


def test_the_api_docs_load_their_setup_script_as_a_file(client: Client) -> None:
    body = client.get("/api/docs/").content.decode()
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", body))
    # drf-spectacular's own page carries a <style> block, which the policy blocks (a console
    # error in every browser); templates/drf_spectacular/swagger_ui.html links a file instead.
    assert "<style" not in body
    assert "/static/css/api_docs.css" in body
