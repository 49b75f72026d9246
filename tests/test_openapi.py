"""The REST API is documented: the schema generates cleanly and covers every route."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture
def schema() -> dict[str, Any]:
    GENERATOR_STATS.reset()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert generated is not None
    return generated


def test_schema_generates_without_warnings_or_errors(schema: dict[str, Any]) -> None:
    assert not GENERATOR_STATS._warn_cache, sorted(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, sorted(GENERATOR_STATS._error_cache)


def test_every_api_route_is_in_the_schema(schema: dict[str, Any]) -> None:
    from django.urls import get_resolver

    from tests.test_tenant_isolation import _walk

    documented = set(schema["paths"])
    api_routes = {"/" + route for route, _ in _walk(get_resolver()) if route.startswith("api/v1/")}
    assert len(api_routes) > 5
    import re

    normalised = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in api_routes}
    assert normalised <= documented, sorted(normalised - documented)


def test_schema_and_docs_are_served(client: Any) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content
