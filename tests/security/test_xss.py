"""Hostile strings in every user- and TikTok-controlled field render inert on every page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts.models import User
from tests.security.conftest import FORMULA, JS_URL, PAYLOAD, QUOTE, SCRIPT, Seeded
from tests.security.routes import html_routes, unknown_kwargs

pytestmark = pytest.mark.django_db

HANDLER_BREAKOUTS = (SCRIPT, "<img", QUOTE, '"-alert(1)-"')
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "xlink:href"}


class _Audit(HTMLParser):
    """Collects what a browser would execute: event-handler attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self.script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            # The parser has already decoded entities, as a browser would before acting on it.
            text = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name in URL_ATTRIBUTES and text.startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            # Inside an inline handler the payload is inert only while it stays in its string.
            if name.startswith("on") and any(p in (value or "") for p in HANDLER_BREAKOUTS):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and ("src", "x") in attrs:
            self.problems.append("injected <img src=x>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert(1)" in data:
            self.problems.append(f"script body: {data[:80]!r}")


def audit(html: str) -> list[str]:
    problems = []
    if SCRIPT in html:
        problems.append("raw <script>alert(1)</script>")
    if "<img src=x onerror" in html:
        problems.append("raw <img src=x onerror")
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return problems + parser.problems


def test_the_audit_catches_what_it_claims_to() -> None:
    assert audit(f"<p>{SCRIPT}</p>")
    assert audit(f'<a title="{PAYLOAD}">')
    assert audit(f'<a href="{JS_URL}">x</a>')
    assert audit('<a href=" &#106;avascript:alert(1)">x</a>')
    assert audit(f"<form onsubmit=\"return confirm('{QUOTE}')\">")
    assert not audit("<form onsubmit=\"return confirm('\\u0027-alert(1)-\\u0027')\">")
    assert not audit("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert not audit('<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">x</a>')


def _get_every_page(client: Client, seeded: Seeded) -> tuple[dict[str, list[str]], list[str]]:
    routes = html_routes()
    values = seeded.url_values()
    assert not unknown_kwargs(routes, values), "give the new URL kwargs a seeded value"
    published = {**values, "post_id": str(seeded.published_post.id)}
    urls = list(dict.fromkeys(route.url(v) for route in routes for v in (values, published)))
    failures: dict[str, list[str]] = {}
    rendered: list[str] = []
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, f"GET {url} -> {response.status_code}"
            if "html" not in response.get("Content-Type", "") or response.streaming:
                continue
            html = response.content.decode()
            rendered.append(url)
            problems = audit(html)
            if problems:
                failures[f"GET {url} {headers}"] = problems
    return failures, rendered


def test_hostile_strings_render_inert_on_every_page(
    seeded: Seeded, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    failures, rendered = _get_every_page(client, seeded)
    assert len(rendered) > 30
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())
    # The payloads were really on the pages, escaped.
    home = client.get(f"/w/{seeded.workspace.id}/conversations/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home


def test_hostile_strings_render_inert_for_a_viewer(
    seeded: Seeded, viewer: User, client_for: Callable[[User], Client]
) -> None:
    failures, rendered = _get_every_page(client_for(viewer), seeded)
    assert len(rendered) > 20
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("export", ["account.csv", "posts.csv"])
def test_csv_exports_neutralise_formulas_and_never_render_as_html(
    export: str, seeded: Seeded, owner: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).get(f"/w/{seeded.workspace.id}/analytics/export/{export}?range=30")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.getvalue()  # joins streaming_content when the export streams
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) > 1
    for row in rows[1:]:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                assert _is_number(cell), f"formula cell in {export}: {cell!r}"
    flat = [cell for row in rows for cell in row]
    if export == "posts.csv":
        assert "'" + FORMULA in flat
        assert PAYLOAD in flat  # the caption survives, as text, for the spreadsheet
