"""Property-based sweep: hostile values in every form field, query parameter and API field of
every route (discovered from the URL conf and the OpenAPI schema). Nothing may answer 500.

Hypothesis draws the values: NUL bytes, huge and empty strings, out-of-range dates and
numbers, unicode edge cases and wrong JSON types. The test client re-raises any server error,
so a failure shows the route, the payload and the traceback.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.models import User
from tests.security.conftest import Seeded
from tests.security.routes import Route, all_routes, placeholder_values

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

#: Routes that end the session or leave nothing to test once hit with junk.
SKIP = re.compile(r"^(admin/|accounts/logout/|api/schema/|api/docs/)")
#: Query parameters any page might read, besides the names its own forms use.
COMMON_PARAMS = [
    "q", "author", "kind", "status", "account", "cursor", "page", "page_size", "date", "view",
    "from", "to", "since", "after", "next", "period", "sort", "start", "end", "include_own",
    "state", "code", "error", "format", "video", "read", "handled", "hidden", "liked",
]  # fmt: skip

EDGE_STRINGS = [
    "", " ", "\x00", "a\x00b", "%00", "\t\r\n", "x" * 70_000, "0", "-1", "1e309", "NaN",
    "99999999999999999999999", "-99999999999999999999", "0001-01-01", "9999-12-31",
    "0000-00-00", "2026-02-30", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00",
    "24:61", "true", "null", "[]", "{}", "../../etc/passwd", "<script>alert(1)</script>",
    "' OR 1=1 --", "\u202e\u0635\u0648\u0631\u0629", "🎉" * 600, "e\u0301" * 50, "\ufeff",
    "00000000-0000-0000-0000-000000000000", "Z" * 256, "😀\U0001f3fd\u200d", "\uffff",
]  # fmt: skip

text_values = st.one_of(
    st.sampled_from(EDGE_STRINGS),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
json_values = st.one_of(
    text_values,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(text_values, max_size=3),
    st.dictionaries(st.text(max_size=5), text_values, max_size=2),
)

FORM = "application/x-www-form-urlencoded"
SWEEP = settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _routes(api: bool) -> list[Route]:
    return [r for r in all_routes() if not SKIP.match(r.route) and r.is_api == api]


def _values(seeded: Seeded, routes: list[Route]) -> dict[str, str]:
    return {**placeholder_values(routes), **seeded.url_values()}


def _form_fields(html: str) -> list[str]:
    return sorted(set(re.findall(r'<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"', html)))


class Sweep:
    """A signed-in client that records server errors instead of raising the first one, so
    one run reports every failing route with its payload (tracebacks are in the log)."""

    def __init__(self, user: User) -> None:
        self.client = Client(raise_request_exception=False)
        self.client.force_login(user)
        self.failures: list[str] = []

    def check(self, response: Any, what: str) -> None:
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {what}"[:400])


@given(data=st.data())
@SWEEP
def test_html_routes_answer_hostile_queries_and_forms_without_a_server_error(
    data: st.DataObject,
    seeded: Seeded,
    owner: User,
    security_sim: Any,
) -> None:
    routes = _routes(api=False)
    values = _values(seeded, routes)
    sweep = Sweep(owner)
    client = sweep.client
    for route in routes:
        url = route.url(values)
        page = client.get(url)
        readable = page.status_code == 200 and not getattr(page, "streaming", False)
        html = page.content.decode(errors="replace") if readable else ""
        fields = _form_fields(html)
        # A fixed number of draws per route whatever the page holds: Hypothesis replays
        # examples, and the pages change as the sweep writes.
        picks = data.draw(st.lists(st.integers(0, len(COMMON_PARAMS) - 1), min_size=3, max_size=3))
        drawn = data.draw(st.lists(text_values, min_size=6, max_size=6))
        names = sorted({*(COMMON_PARAMS[i] for i in picks), *fields})
        query = {name: drawn[i % len(drawn)] for i, name in enumerate(names)}
        sweep.check(client.get(url, query), f"GET {url} {query!r}")
        form = {name: drawn[(i + 1) % len(drawn)] for i, name in enumerate(fields or names)}
        sweep.check(client.post(url, form), f"POST {url} {form!r}")
    assert not sweep.failures, "\n".join(sweep.failures)


def _operations() -> list[tuple[str, str, list[str], list[str]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema is not None
    components = schema["components"]["schemas"]
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            body: list[str] = []
            content = op.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                body += list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            found.append((path, method, params, sorted(set(body))))
    return found


@given(data=st.data())
@SWEEP
def test_api_operations_answer_hostile_parameters_and_bodies_without_a_server_error(
    data: st.DataObject,
    seeded: Seeded,
    owner: User,
    security_sim: Any,
) -> None:
    values = _values(seeded, _routes(api=True))
    sweep = Sweep(owner)
    client = sweep.client
    for path, method, params, fields in _operations():
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        query = {name: data.draw(text_values) for name in params}
        if method == "get":
            sweep.check(client.get(url, query), f"GET {url} {query!r}")
            continue
        body = data.draw(
            st.one_of(
                st.fixed_dictionaries({name: json_values for name in fields}),
                json_values,  # not an object at all
            )
        )
        call = getattr(client, method)
        response = call(url, json.dumps(body), content_type="application/json")
        sweep.check(response, f"{method.upper()} {url} {body!r}")
        if method in ("post", "patch", "put"):
            form = {name: data.draw(text_values) for name in fields}
            if method == "post":
                response = client.post(url, form)
            else:
                response = call(url, urlencode(form), content_type=FORM)
            sweep.check(response, f"{method.upper()} form {url} {form!r}")
    assert not sweep.failures, "\n".join(sweep.failures)
