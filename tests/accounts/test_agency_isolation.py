"""Agency isolation: every route under /agencies/<agency_id>/ (HTML and API), requested with
another agency's ids, answers 404 and shows none of its data.

Routes are read from the URL configuration, like tests/test_tenant_isolation.py, so a new
agency route cannot escape: each of its kwargs needs a factory in FOREIGN_AGENCY_OBJECTS.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import get_resolver

from accounts import agency_services
from accounts.models import Agency, AgencyMember, Role, User
from tests.factories import UserFactory
from tests.test_tenant_isolation import _fill, _walk

pytestmark = pytest.mark.django_db

FOREIGN_NAME = "Rival Agency Secret Client"


def _client_of(agency: Agency) -> str:
    actor = AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)
    return str(agency_services.agency_client_create(actor=actor, name=FOREIGN_NAME).pk)


def _member_of(agency: Agency) -> str:
    user = UserFactory.create()
    return str(AgencyMember.objects.create(agency=agency, user=user, role=Role.EDITOR).pk)


FOREIGN_AGENCY_OBJECTS: dict[str, Callable[[Agency], str]] = {
    "client_id": _client_of,
    "agency_member_id": _member_of,
}


def agency_routes() -> list[tuple[str, list[str]]]:
    return [
        (route, re.findall(r"<(?:\w+:)?(\w+)>", route))
        for route, _pattern in _walk(get_resolver())
        if "<uuid:agency_id>" in route
    ]


def test_every_agency_route_has_foreign_object_factories() -> None:
    routes = agency_routes()
    assert len(routes) >= 10
    missing = {k for _, kwargs in routes for k in kwargs if k != "agency_id"} - set(
        FOREIGN_AGENCY_OBJECTS
    )
    assert not missing, f"add FOREIGN_AGENCY_OBJECTS factories for: {sorted(missing)}"


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_foreign_agency_ids_answer_404_everywhere(
    method: str, client_for: Callable[[User], Any]
) -> None:
    me = UserFactory.create()
    mine = agency_services.agency_create(owner=me, name="My Agency")
    rival = agency_services.agency_create(owner=UserFactory.create(), name=FOREIGN_NAME)
    made = {key: factory(rival) for key, factory in FOREIGN_AGENCY_OBJECTS.items()}
    client = client_for(me)
    failures, checked = [], 0
    for route, kwargs in agency_routes():
        foreign = {k: made[k] for k in kwargs if k != "agency_id"}
        variants = [{"agency_id": str(rival.pk), **foreign}]
        if foreign:
            variants.append({"agency_id": str(mine.pk), **foreign})
        for values in variants:
            url = _fill(route, values)
            response = getattr(client, method)(url)
            checked += 1
            if response.status_code != 404 or FOREIGN_NAME.encode() in response.content:
                failures.append(f"{method.upper()} {url} -> {response.status_code}")
    assert checked >= 10
    assert not failures, "\n".join(failures)


def test_unknown_agency_and_anonymous_visitors(client_for: Callable[[User], Any]) -> None:
    from django.test import Client

    me = UserFactory.create()
    agency_services.agency_create(owner=me, name="Mine")
    assert client_for(me).get(f"/agencies/{uuid.uuid4()}/").status_code == 404
    rival = agency_services.agency_create(owner=UserFactory.create(), name=FOREIGN_NAME)
    anonymous = Client().get(f"/agencies/{rival.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    api = Client().get(f"/api/v1/agencies/{rival.pk}/")
    assert api.status_code in (401, 403) and FOREIGN_NAME.encode() not in api.content
