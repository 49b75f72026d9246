"""The one way views load the object named in their URL (`workspace_view(load=...)`,
`WorkspaceObjectAPIView`): another workspace's id is a 404 before role and method count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.access import agency_view
from accounts.agency_selectors import agency_client_get
from accounts.models import Membership, User, Workspace
from later.tenancy import loader_url_kwargs, workspace_view

pytestmark = pytest.mark.django_db


def test_a_loader_names_the_url_kwargs_it_consumes() -> None:
    def post_get(*, workspace: Any, post_id: Any) -> None: ...

    def positional(workspace: Any, post_id: Any) -> None: ...

    def nothing(*, workspace: Any) -> None: ...

    assert loader_url_kwargs(post_get) == ("post_id",)
    with pytest.raises(TypeError, match="keyword-only"):
        loader_url_kwargs(positional)
    with pytest.raises(TypeError, match="no URL kwarg"):
        loader_url_kwargs(nothing)


def test_agency_pages_load_with_the_same_machinery() -> None:
    """`accounts.access.agency_view` and `AgencyAPIView` use later's loader within the agency:
    the same keyword-only rule, the agency in place of the workspace."""

    def positional(agency: Any, client_id: Any) -> None: ...

    assert loader_url_kwargs(agency_client_get, scope="agency") == ("client_id",)
    with pytest.raises(TypeError, match="keyword-only"):
        agency_view(load={"client": positional})


def test_a_view_must_take_what_it_loads() -> None:
    def post_get(*, workspace: Any, post_id: Any) -> None: ...

    def view(request: Any, item: Any) -> Any: ...

    with pytest.raises(TypeError, match="loaded 'post'"):
        workspace_view(load={"post": post_get})(view)
    assert callable(workspace_view(load={"item": post_get})(view))


def _member(workspace: Workspace, user: User) -> Membership:
    return Membership.objects.for_workspace(workspace).get(user=user)


def test_html_foreign_id_is_404_whatever_the_role_and_method(
    workspace: Workspace,
    other_workspace: Workspace,
    owner: User,
    viewer: User,
    editor: User,
    outsider: User,
    client_for: Callable[[User], Client],
) -> None:
    foreign = _member(other_workspace, outsider)
    own = _member(workspace, editor)

    def url(member: Membership) -> str:
        return reverse("accounts:member_role", args=[workspace.id, member.id])

    client = client_for(viewer)
    assert client.post(url(foreign), {"role": "viewer"}).status_code == 404
    assert client.get(url(foreign)).status_code == 404
    assert client.post(url(own), {"role": "viewer"}).status_code == 403
    assert client_for(owner).get(url(own)).status_code == 405
    own.refresh_from_db()
    assert own.role == "editor"


def test_api_foreign_id_is_404_whatever_the_role_and_method(
    workspace: Workspace,
    other_workspace: Workspace,
    owner: User,
    viewer: User,
    editor: User,
    outsider: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    foreign = _member(other_workspace, outsider)
    own = _member(workspace, editor)

    def url(member: Membership) -> str:
        return reverse("accounts:api_member", args=[workspace.id, member.id])

    client = api_client_for(viewer)
    for method in ("get", "patch", "delete", "put"):
        response = getattr(client, method)(url(foreign), {"role": "viewer"}, format="json")
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"
    assert client.patch(url(own), {"role": "viewer"}, format="json").status_code == 403
    response = api_client_for(owner).patch(url(own), {"role": "viewer"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
