"""Layer 4: every URL pattern and API route, requested with another workspace's ids, is 404.

Routes are discovered from the URL conf, so a new route cannot escape the sweep: each of its
UUID/str kwargs must have a factory in some tests/<app>/isolation.py FOREIGN_OBJECTS registry.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from accounts.models import Invitation, Membership, Role, User, Workspace
from tests.factories import TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

FOREIGN_NAME = "Rival Client Secret Plans"


def _membership_in(ws: Workspace) -> str:
    return str(
        Membership.objects.create(workspace=ws, user=UserFactory.create(), role=Role.EDITOR).id
    )


def _invitation_in(ws: Workspace) -> str:
    from datetime import timedelta

    from django.utils import timezone

    inv = Invitation.objects.create(
        workspace=ws,
        email=f"{uuid.uuid4().hex}@example.com",
        token=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=1),
    )
    return str(inv.id)


def _account_in(ws: Workspace) -> str:
    return str(TikTokAccountFactory.create(workspace=ws, display_name=FOREIGN_NAME).id)


CORE_FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {
    "membership_id": _membership_in,
    "invitation_id": _invitation_in,
    "account_id": _account_in,
}


def _registry() -> dict[str, Callable[[Workspace], str]]:
    registry = dict(CORE_FOREIGN_OBJECTS)
    for mod in pkgutil.iter_modules(tests.__path__):
        if not mod.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{mod.name}.isolation")
        except ModuleNotFoundError:
            continue
        registry.update(getattr(module, "FOREIGN_OBJECTS", {}))
    return registry


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def workspace_routes() -> list[tuple[str, list[str]]]:
    routes = []
    for route, _pattern in _walk(get_resolver()):
        if "<uuid:workspace_id>" not in route:
            continue
        routes.append((route, re.findall(r"<(?:\w+:)?(\w+)>", route)))
    return routes


def _fill(route: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)


def test_every_workspace_route_is_covered_by_a_foreign_object_factory() -> None:
    registry = _registry()
    missing = sorted(
        {k for _, kwargs in workspace_routes() for k in kwargs if k != "workspace_id"}
        - set(registry)
    )
    assert not missing, f"add FOREIGN_OBJECTS factories for: {missing}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_foreign_ids_answer_404_everywhere(
    method: str,
    owner: User,
    workspace: Workspace,
    other_workspace: Workspace,
    client_for: Callable,
) -> None:
    other_workspace.name = FOREIGN_NAME
    other_workspace.save()
    registry = _registry()
    client = client_for(owner)
    failures = []
    checked = 0
    made: dict[str, str] = {}
    for route, kwargs in workspace_routes():
        variants: list[dict[str, str]] = []
        for k in kwargs:
            if k != "workspace_id" and k not in made:
                made[k] = registry[k](other_workspace)
        foreign = {k: made[k] for k in kwargs if k != "workspace_id"}
        # 1) the foreign workspace itself; 2) my workspace with foreign object ids.
        variants.append({"workspace_id": str(other_workspace.id), **foreign})
        if foreign:
            variants.append({"workspace_id": str(workspace.id), **foreign})
        for values in variants:
            url = _fill(route, values)
            response = getattr(client, method)(url)
            checked += 1
            body = getattr(response, "content", b"")
            status = response.status_code
            if status == 405 and values["workspace_id"] == str(workspace.id):
                # A method refused before any lookup says nothing about the foreign object, as
                # long as a never-existing id gets exactly the same answer.
                unknown = {k: str(uuid.uuid4()) for k in foreign}
                twin = getattr(client, method)(_fill(route, {**values, **unknown}))
                if twin.status_code == 405:
                    continue
            if status != 404 or FOREIGN_NAME.encode() in body:
                failures.append(f"{method.upper()} {url} -> {status}")
    assert checked > 10
    assert not failures, "\n".join(failures)


def review_link_routes() -> list[tuple[str, list[str]]]:
    """Public routes reached with a signed review link instead of a workspace id."""
    return [
        (route, re.findall(r"<(?:\w+:)?(\w+)>", route))
        for route, _pattern in _walk(get_resolver())
        if route.startswith("review/<str:token>/")
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_review_links_reach_nothing_outside_their_workspace(
    method: str, workspace: Workspace, other_workspace: Workspace
) -> None:
    """Every review-link route, with a live link of one workspace and the other workspace's
    post, with an expired or revoked link, or with a tampered token: never 2xx/3xx, never the
    other workspace's data."""
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from calendar_app.approvals.links import review_link_token
    from calendar_app.models import PostStatus, ReviewLink
    from tests.calendar_app.factories import PostFactory

    routes = review_link_routes()
    assert len(routes) >= 4
    later_ = timezone.now() + timedelta(days=2)
    mine = PostFactory.create(workspace=workspace, status=PostStatus.IN_REVIEW, scheduled_at=later_)
    foreign = PostFactory.create(
        workspace=other_workspace,
        status=PostStatus.IN_REVIEW,
        scheduled_at=later_,
        caption=FOREIGN_NAME,
    )

    def link(ws: Workspace, **kw: object) -> str:
        made = ReviewLink.objects.create(
            workspace=ws, name="Client", expires_at=timezone.now() + timedelta(days=1)
        )
        ReviewLink.objects.for_workspace(ws).filter(pk=made.pk).update(**kw)
        return review_link_token(made)

    live = link(workspace)
    dead = [
        link(workspace, expires_at=timezone.now() - timedelta(seconds=1)),
        link(workspace, revoked_at=timezone.now()),
        live[:-3] + "abc",
        link(other_workspace)[:-1] + "x",
    ]
    client = Client()
    failures = []
    for route, kwargs in routes:
        cases = []
        if "post_id" in kwargs:
            cases.append({"token": live, "post_id": str(foreign.id)})
        cases += [{"token": t, "post_id": str(mine.id)} for t in dead]
        for values in cases:
            url = _fill(route, {k: values[k] for k in kwargs})
            response = getattr(client, method)(url, {"action": "approve"})
            body = getattr(response, "content", b"")
            if response.status_code not in (404, 405, 410) or FOREIGN_NAME.encode() in body:
                failures.append(f"{method.upper()} {url} -> {response.status_code}")
    foreign.refresh_from_db()
    mine.refresh_from_db()
    assert foreign.status == mine.status == PostStatus.IN_REVIEW
    assert not failures, "\n".join(failures)
