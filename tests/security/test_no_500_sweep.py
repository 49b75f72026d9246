"""Deterministic no-500 sweep: a fixed catalogue of hostile values sent to every route of the
URL conf and every operation of the OpenAPI schema, plus TikTok's webhook endpoints.

`test_hostile_sweep` draws random values with Hypothesis (slow, marked so); this module is the
fast, repeatable floor that runs with the ordinary suite: the same values every time, each
class of bad input named (lone surrogates, 2**63, 1e309, repeated parameters, missing fields,
JSON where a form is expected, bad CSRF, bad Authorization and Idempotency-Key headers, deep
and huge JSON). Every server error is collected, so one run lists them all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from accounts.models import TikTokWebhookEvent, User
from tests.security.conftest import Seeded
from tests.security.routes import Route, all_routes, placeholder_values

pytestmark = pytest.mark.django_db

SKIP = re.compile(r"^(admin/|accounts/logout/|api/schema/|api/docs/)")
#: Query parameters the pages and API read (filters, sort, paging, ranges, dates, cursors).
PARAMS = [
    "q", "author", "kind", "status", "account", "cursor", "page", "page_size", "date", "view",
    "from", "to", "start", "end", "sort", "period", "range", "days", "tz", "next", "label",
    "assignee", "sentiment", "video", "handled", "hidden", "read", "include_own", "format",
]  # fmt: skip

LONG = "x" * 100_000
#: Raw (already percent-encoded) query values: the byte sequences a browser never sends.
RAW_VALUES = {
    "lone surrogate": "%ED%A0%80",
    "invalid utf-8": "%FF%FE",
    "overlong utf-8": "%C0%AF",
}
#: Decoded values, sent through the test client's own encoding.
VALUES = {
    "100k chars": LONG,
    "RTL and combining": "\u202e\u0635\u0648\u0631\u0629" + "e\u0301" * 30,
    "emoji": "😀\U0001f3fd\u200d" * 50,
    "invalid uuid": "not-a-uuid-0000",
    "2**63": str(2**63),
    "-2**63-1": str(-(2**63) - 1),
    "1e309": "1e309",
    "-1": "-1",
    "NaN": "NaN",
    "bad date": "2026-02-30",
    "year 0": "0000-00-00",
    "year 9999": "9999-12-31T23:59:59+14:00",
    "bad time": "25:61",
    "bad tz": "Mars/Olympus_Mons",
    "json": '{"a": [1, 2]}',
}


def _routes(*, api: bool) -> list[Route]:
    return [r for r in all_routes() if not SKIP.match(r.route) and r.is_api == api]


def _values(seeded: Seeded) -> dict[str, str]:
    return {**placeholder_values(all_routes()), **seeded.url_values()}


def _form_fields(html: str) -> list[str]:
    names = re.findall(r'<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"', html)
    return sorted(set(names) - {"csrfmiddlewaretoken"})


class Sweep:
    """A client that records server errors (and unhandled exceptions) instead of stopping."""

    def __init__(self, user: User | None, **client: Any) -> None:
        self.client = Client(raise_request_exception=False, **client)
        if user is not None:
            self.client.force_login(user)
        self.failures: list[str] = []

    def check(self, response: Any, what: str) -> Any:
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {what}"[:300])
        return response

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} server errors:\n" + "\n".join(
            self.failures
        )


#: The form fields each route's page shows, by route name: the same for every test's seed,
#: so the pages are read once per run.
_FIELDS: dict[str, list[str]] = {}


def _page_fields(sweep: Sweep, route: Route, url: str) -> list[str]:
    if route.name not in _FIELDS:
        page = sweep.check(sweep.client.get(url), f"GET {url}")
        readable = page.status_code == 200 and not getattr(page, "streaming", False)
        html = page.content.decode(errors="replace") if readable else ""
        _FIELDS[route.name] = _form_fields(html)
    return _FIELDS[route.name]


@pytest.fixture
def html_forms(seeded: Seeded, owner: User) -> Iterator[tuple[Sweep, list[tuple[str, list[str]]]]]:
    sweep = Sweep(owner)
    values = _values(seeded)
    pages = []
    for route in _routes(api=False):
        url = route.url(values)
        pages.append((url, _page_fields(sweep, route, url)))
    yield sweep, pages


def _rotated(names: list[str], shift: int) -> dict[str, str]:
    """Every hostile value on some parameter, a different one on each shift (a request per
    value and parameter would take minutes over the whole URL conf)."""
    values = list(VALUES.values())
    return {name: values[(i + shift) % len(values)] for i, name in enumerate(names)}


ROTATIONS = 3


def test_html_query_strings_with_hostile_values_never_answer_500(
    html_forms: tuple[Sweep, list[tuple[str, list[str]]]],
) -> None:
    sweep, pages = html_forms
    raws = list(RAW_VALUES.values())
    for url, fields in pages:
        names = sorted({*PARAMS, *fields})
        query = "&".join(f"{quote(n)}={raws[i % len(raws)]}" for i, n in enumerate(names))
        sweep.check(sweep.client.get(f"{url}?{query}"), f"GET {url} undecodable bytes")
        for shift in range(ROTATIONS):
            query_values = _rotated(names, shift * 5)
            sweep.check(sweep.client.get(url, query_values), f"GET {url} rotation {shift}")
        # Repeated parameters: a list where one value is read, and one where a list is.
        repeated = {n: ["1", "x", ""] for n in names}
        sweep.check(sweep.client.get(url, repeated), f"GET {url} repeated")
    sweep.assert_clean()


def test_html_forms_with_hostile_missing_or_json_bodies_never_answer_500(
    html_forms: tuple[Sweep, list[tuple[str, list[str]]]],
) -> None:
    sweep, pages = html_forms
    client = sweep.client
    for url, fields in pages:
        names = fields or PARAMS
        sweep.check(client.post(url, {}), f"POST {url} missing fields")
        for shift in range(ROTATIONS):
            form = _rotated(names, shift * 5)
            sweep.check(client.post(url, form), f"POST {url} rotation {shift}")
        repeated = {n: ["1", "x", ""] for n in names}
        sweep.check(client.post(url, repeated), f"POST {url} repeated")
        body = json.dumps({name: [{"a": None}] for name in names})
        sweep.check(
            client.post(url, body, content_type="application/json"), f"POST {url} JSON body"
        )
        raw = "&".join(f"{quote(n)}=%ED%A0%80" for n in names)
        sweep.check(
            client.post(url, raw, content_type="application/x-www-form-urlencoded"),
            f"POST {url} lone surrogate",
        )
    sweep.assert_clean()


def test_hostile_path_segments_and_bad_csrf_never_answer_500(seeded: Seeded, owner: User) -> None:
    sweep = Sweep(owner, enforce_csrf_checks=True)
    values = _values(seeded)
    routes = _routes(api=False)
    for route in routes:
        url = route.url(values)
        sweep.check(
            sweep.client.post(url, {"csrfmiddlewaretoken": "x" * 64}), f"POST {url} bad CSRF"
        )
    # The free-text path segments (invitation tokens, review tokens, person refs, file names).
    free = [r for r in routes if any(r.converters[k] != "uuid" for k in r.kwargs)]
    for route in free:
        for segment in ("%ED%A0%80", "%FF", "x" * 5000, "..%2F..%2Fetc", "%00"):
            free_kwargs = [k for k in route.kwargs if route.converters[k] != "uuid"]
            url = route.url({**values, **dict.fromkeys(free_kwargs, "SEGMENT")})
            url = url.replace("SEGMENT", segment)
            sweep.check(sweep.client.get(url), f"GET {url[:120]}")
    sweep.assert_clean()


#: An operation of the schema: path, method, query parameter names, body field names.
Operation = tuple[str, str, list[str], list[str]]


def _operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema is not None
    components = schema["components"]["schemas"]
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            body: list[str] = []
            for media in op.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                body += list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            found.append((path, method, params, sorted(set(body))))
    return found


#: JSON values of the wrong type for any field.
JSON_VALUES: dict[str, Any] = {
    "null": None,
    "string": "x",
    "long string": LONG,
    "list": ["x", 1],
    "object": {"a": 1},
    "2**63": 2**63,
    "-2**63-1": -(2**63) - 1,
    "float": 1.5,
    "bool": True,
    "bad date": "2026-02-30T25:61:00",
    "bad uuid": "00000000-0000-0000-0000-00000000000g",
}
#: Raw JSON bodies that are not what any endpoint takes.
RAW_BODIES = {
    "1e309": '{"x": 1e309}',
    "NaN": '{"x": NaN}',
    "deeply nested": "[" * 50_000 + "]" * 50_000,
    "deep object": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "not JSON": "{not json",
    "lone surrogate": '{"x": "\\ud800"}',
    "NUL in string": '{"x": "a\\u0000b"}',
    "top-level list": "[1, 2]",
    "top-level string": '"x"',
    "empty": "",
}


@pytest.fixture
def api_sweep(seeded: Seeded, owner: User) -> tuple[Sweep, list[Operation]]:
    values = _values(seeded)
    ops = [
        (re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path), method, params, fields)
        for path, method, params, fields in _operations()
    ]
    return Sweep(owner), ops


def test_api_query_parameters_with_hostile_values_never_answer_500(
    api_sweep: tuple[Sweep, list[Operation]],
) -> None:
    sweep, ops = api_sweep
    for url, method, params, _fields in ops:
        if method != "get":
            continue
        names = sorted({*params, *PARAMS})
        raws = list(RAW_VALUES.values())
        query = "&".join(f"{quote(n)}={raws[i % len(raws)]}" for i, n in enumerate(names))
        sweep.check(sweep.client.get(f"{url}?{query}"), f"GET {url} undecodable bytes")
        for label, value in VALUES.items():
            sweep.check(sweep.client.get(url, dict.fromkeys(names, value)), f"GET {url} {label}")
        sweep.check(sweep.client.get(url, {n: ["1", "x"] for n in names}), f"GET {url} repeated")
    sweep.assert_clean()


def test_api_bodies_of_wrong_types_depth_and_size_never_answer_500(
    api_sweep: tuple[Sweep, list[Operation]],
) -> None:
    sweep, ops = api_sweep
    for url, method, _params, fields in ops:
        if method == "get":
            continue
        call = getattr(sweep.client, method)
        for label, value in JSON_VALUES.items():
            body = json.dumps(dict.fromkeys(fields or ["x"], value))
            sweep.check(call(url, body, content_type="application/json"), f"{method} {url} {label}")
        for label, raw in RAW_BODIES.items():
            sweep.check(call(url, raw, content_type="application/json"), f"{method} {url} {label}")
        huge = json.dumps(dict.fromkeys(fields or ["x"], "y" * 3_000_000))
        sweep.check(call(url, huge, content_type="application/json"), f"{method} {url} huge")
        form = "&".join(f"{quote(n)}=%ED%A0%80" for n in fields or ["x"])
        sweep.check(
            call(url, form, content_type="application/x-www-form-urlencoded"),
            f"{method} {url} form lone surrogate",
        )
    sweep.assert_clean()


BAD_AUTHORIZATION = [
    "Bearer",
    "Bearer ",
    "Bearer a b",
    "Bearer lft_" + "x" * 10_000,
    "Bearer lft_\u00e9\u00e9",
    "Basic !!!",
    "Basic " + "QUJD",
    "Token abc",
    "bearer lft_",
    "\u00ff\u00fe",
]
BAD_IDEMPOTENCY_KEYS = ["k" * 256, "k" * 10_000, "\u00e9t\u00e9", "", " ", "a\tb"]


def test_api_bad_authorization_and_idempotency_headers_never_answer_500(
    api_sweep: tuple[Sweep, list[Operation]],
) -> None:
    sweep, ops = api_sweep
    anonymous = Sweep(None)
    for url, method, _params, _fields in ops:
        call = getattr(anonymous.client, method)
        body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
        for header in BAD_AUTHORIZATION:
            anonymous.check(
                call(url, **body, HTTP_AUTHORIZATION=header),
                f"{method} {url} Authorization {header[:30]!r}",
            )
        if method != "post":
            continue
        for key in BAD_IDEMPOTENCY_KEYS:
            sweep.check(
                sweep.client.post(
                    url, "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
                ),
                f"post {url} Idempotency-Key {key[:30]!r}",
            )
    sweep.assert_clean()
    anonymous.assert_clean()


LOGIN_KIT_SECRET = "sim-client-secret"
BUSINESS_SECRET = "sim-business-app-secret"


def _signed(body: bytes, secret: str, stamp: int | None = None) -> str:
    at = int(time.time()) if stamp is None else stamp
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},s={digest}"


def _event(**fields: Any) -> bytes:
    return json.dumps(
        {
            "client_key": "sim-client-key",
            "event": "authorization.removed",
            "create_time": int(time.time()),
            "user_openid": "someone",
            "content": json.dumps({"reason": 1}),
            **fields,
        }
    ).encode()


def test_webhooks_answer_malformed_deliveries_without_a_server_error(
    security_sim: Any, seeded: Seeded
) -> None:
    sweep = Sweep(None)
    now = int(time.time())
    unsigned = [
        "",
        "t=,s=",
        "t=abc,s=def",
        f"t={'9' * 400},s=x",
        f"t={now},s=\u00e9\u00e9",
        f"t={now}",
        "s=only",
        "=,=,=",
        "t=1e309,s=x",
        f"t={now},s={'a' * 100_000}",
    ]
    for url, secret, client_key in (
        ("/webhooks/tiktok/", LOGIN_KIT_SECRET, "sim-client-key"),
        ("/webhooks/tiktok/business/", BUSINESS_SECRET, "sim-business-app-id"),
    ):
        body = _event(client_key=client_key)
        for header in unsigned:
            sweep.check(
                sweep.client.post(
                    url, body, content_type="application/json", HTTP_TIKTOK_SIGNATURE=header
                ),
                f"POST {url} signature {header[:40]!r}",
            )
        signed_bodies = {
            "not JSON": b"{not json",
            "deep": b"[" * 30_000 + b"]" * 30_000,
            "list": b"[1]",
            "NUL in event": _event(client_key=client_key, event="a\x00b"),
            "NUL in open id": _event(client_key=client_key, user_openid="\x00"),
            "NUL in content": _event(client_key=client_key, content=json.dumps({"x": "\x00"})),
            "NUL in content object": _event(client_key=client_key, content={"x": "a\x00"}),
            "lone surrogate": _event(client_key=client_key, content={"x": "\ud800"}),
            "huge create_time": _event(client_key=client_key, create_time=10**20),
            "negative create_time": _event(client_key=client_key, create_time=-(10**15)),
            "float create_time": _event(client_key=client_key, create_time=1e300),
            "NaN create_time": body.replace(str(json.loads(body)["create_time"]).encode(), b"NaN"),
            "1e309 create_time": body.replace(
                str(json.loads(body)["create_time"]).encode(), b"1e309"
            ),
            "object event": _event(client_key=client_key, event={"a": 1}),
            "list content": _event(client_key=client_key, content=[1, 2]),
        }
        for label, raw in signed_bodies.items():
            sweep.check(
                sweep.client.post(
                    url,
                    raw,
                    content_type="application/json",
                    HTTP_TIKTOK_SIGNATURE=_signed(raw, secret),
                ),
                f"POST {url} signed {label}",
            )
    sweep.assert_clean()
    # Signed events with odd values are kept, with what no column takes left out.
    events = TikTokWebhookEvent.objects.all()
    assert events.filter(event="ab").count() == 2
    assert events.filter(content={"x": ""}).count() == 2
    assert events.filter(content={"x": "a"}).count() == 2
    assert events.filter(content={"x": "?"}).count() == 2
    assert events.filter(occurred_at__isnull=True).count() == 2 * 5


def test_odd_methods_broken_multipart_and_too_many_fields_never_answer_500(
    seeded: Seeded, owner: User
) -> None:
    sweep = Sweep(owner)
    client = sweep.client
    values = _values(seeded)
    urls = [route.url(values) for route in _routes(api=False)]
    urls += [
        re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        for path, method, _params, _fields in _operations()
        if method == "post"
    ]
    many = "&".join(f"f{i}=1" for i in range(1_200))
    broken = '--nope\r\nContent-Disposition: form-data; name="file"; filename="a\r\n\r\nxx'
    for url in urls:
        for method in ("put", "delete", "options"):
            sweep.check(getattr(client, method)(url), f"{method} {url}")
        sweep.check(
            client.post(url, many, content_type="application/x-www-form-urlencoded"),
            f"POST {url} 1200 fields",
        )
        sweep.check(
            client.post(url, broken, content_type="multipart/form-data; boundary=b"),
            f"POST {url} broken multipart",
        )
        sweep.check(
            client.post(url, broken, content_type="multipart/form-data"),
            f"POST {url} multipart without boundary",
        )
    sweep.assert_clean()


HOSTILE_CSVS = {
    "lone surrogate bytes": b"account,date,time,caption\n\xed\xa0\x80,2031-01-01,10:00,x\n",
    "UTF-16 with BOM": "account,date\nava,2031-01-01\n".encode("utf-16"),
    "UTF-8 BOM": b"\xef\xbb\xbfaccount,date,time,caption,privacy,toggles,media\nava,,,x,,,\n",
    "NUL": b"account,date,time,caption\nava\x00,2031-01-01,10:00,x\n",
    "100k cell": b"account,date,time,caption\nava,2031-01-01,10:00," + b"x" * 100_000 + b"\n",
    "odd values": (
        "account,date,time,caption,privacy,toggles,media,dst,mode\n"
        "@,0000-00-00,24:60,\u202e\u0301,EVERYONE\u0301,;;;,../../etc/passwd,third,both\n"
        f"{'9' * 30},9999-12-31,23:59,x,{2**63},comment;comment,{'m' * 5000}.mp4,first,inbox\n"
        "ava,2031-02-30,1e309,x,,,,,\n"
        "ava,-1,NaN,x,,,,,\n"
    ).encode(),
    "ragged rows": b"account,date,time,caption\nava\nava,2031-01-01,10:00,x,extra,extra,extra\n",
    "quotes": b'account,date,time,caption\n"ava,2031-01-01,10:00,"unterminated\n',
    "only CR": b"account,date,time,caption\rava,2031-01-01,10:00,x\r",
    "duplicate headers": b"account,account,date,date\nava,bob,2031-01-01,2031-01-02\n",
}


def test_csv_imports_of_hostile_files_never_answer_500(seeded: Seeded, owner: User) -> None:
    sweep = Sweep(owner)
    ws = seeded.workspace.pk
    for label, content in HOSTILE_CSVS.items():
        for url in (f"/w/{ws}/calendar/import/", f"/api/v1/w/{ws}/post-imports/"):
            upload = SimpleUploadedFile("posts.csv", content, content_type="text/csv")
            sweep.check(sweep.client.post(url, {"file": upload}), f"POST {url} {label}")
    sweep.assert_clean()


def test_signed_out_visitors_sending_hostile_values_never_get_a_500(
    seeded: Seeded, fresh_rate_limits: None
) -> None:
    sweep = Sweep(None)
    client = sweep.client
    values = _values(seeded)
    fields = ["login", "email", "password", "password1", "password2", "remember", "code", "key"]
    # Workspace and agency pages send a signed-out visitor to the sign-in page before reading
    # anything; the others (sign-in, sign-up, invitations, review links, media links) read.
    public = [r for r in _routes(api=False) if not r.route.startswith(("w/", "agencies/"))]
    for route in public:
        url = route.url(values)
        for shift in range(ROTATIONS):
            hostile = _rotated(sorted({*PARAMS, *fields}), shift * 5)
            sweep.check(client.get(url, hostile), f"GET {url} rotation {shift}")
            sweep.check(client.post(url, hostile), f"POST {url} rotation {shift}")
    sweep.assert_clean()
