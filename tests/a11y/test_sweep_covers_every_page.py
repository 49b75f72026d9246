"""The page sweep (test_pages.py) cannot miss a page: every route of the URL configuration that
answers a GET with an HTML document, signed in or signed out, is either visited by the sweep or
listed below with the reason it is not. A page added later fails here until it is swept.

Routes are read from the URL configuration (tests/security/routes.py, as the hostile-input sweeps
do) and requested with the security sweep's seeded workspace; what the sweep visits is read from
the `reverse("<name>")` calls in test_pages.py, whose every page goes through check_page."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.test import Client

from accounts.models import User
from tests.security.conftest import Seeded, seeded  # noqa: F401 (the fixture, shared)
from tests.security.routes import html_routes, unknown_kwargs

SWEEP = Path(__file__).with_name("test_pages.py")

#: Pages the sweep reaches without a reverse() of their name.
SWEPT_OTHERWISE = {
    # links.review_link_url() builds the signed token URL (test_approval_pages).
    "review:page": "review-link, review-link-expired",
}

#: HTML documents the sweep deliberately does not visit, each with its reason. None today: every
#: page a signed-in or signed-out person can open is swept. Add one only with a reason a
#: reviewer accepts (a page that is not the product's, say), never to make this test pass.
NOT_SWEPT: dict[str, str] = {}


def swept_names() -> set[str]:
    """The route names test_pages.py passes to reverse()."""
    tree = ast.parse(SWEEP.read_text())
    names = set(SWEPT_OTHERWISE)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            first = node.args[0]
            if node.func.id == "reverse" and isinstance(first, ast.Constant):
                names.add(str(first.value))
    return names


def is_document(response: Any) -> bool:
    """A whole HTML page (not a fragment, a file, a redirect or a refusal)."""
    return (
        response.status_code == 200
        and "text/html" in response.get("Content-Type", "")
        and not response.streaming
        and b"<html" in response.content[:2000]
    )


def test_every_html_page_is_swept_or_excluded_with_a_reason(
    seeded: Seeded,  # noqa: F811
    owner: User,
    client_for: Callable[[User], Client],
) -> None:
    routes = html_routes()
    values = seeded.url_values()
    assert not unknown_kwargs(routes, values), "give the new URL kwargs a seeded value"
    clients = {"signed in": client_for(owner), "signed out": Client()}
    pages: dict[str, str] = {}
    for route in routes:
        for who, client in clients.items():
            response = client.get(route.url(values))
            if is_document(response):
                pages.setdefault(route.name, f"{route.url(values)} ({who})")
    # The seeded workspace really renders pages of every kind (else this proves nothing).
    assert {"calendar_app:calendar", "conversations:rule_edit", "account_login"} <= set(pages)
    accounted = swept_names() | set(NOT_SWEPT)
    missing = sorted(f"{name}: {url}" for name, url in pages.items() if name not in accounted)
    assert not missing, (
        "pages neither in tests/a11y/test_pages.py nor in NOT_SWEPT (add them to the sweep):\n"
        + "\n".join(missing)
    )


def test_the_lists_name_real_routes_and_the_sweep_is_read() -> None:
    names = {route.name for route in html_routes()}
    assert set(SWEPT_OTHERWISE) | set(NOT_SWEPT) <= names, "a listed route no longer exists"
    assert not set(NOT_SWEPT) & swept_names(), "a route is both swept and excluded"
    swept = swept_names() - set(SWEPT_OTHERWISE)
    assert {"calendar_app:calendar", "conversations:team", "mfa_index"} <= swept
    assert swept <= names, f"test_pages.py reverses unknown names: {swept - names}"
