"""Every URL pattern of the project, discovered from the URL conf, and how to fill it.

Routes added later are picked up automatically; a route whose kwargs have no known value
fails `unknown_kwargs` so the sweeps cannot silently skip it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    kwargs: tuple[str, ...]
    converters: Mapping[str, str]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    def url(self, values: Mapping[str, str]) -> str:
        return reverse(self.name, kwargs={k: values[k] for k in self.kwargs})


def _converters(pattern_text: str) -> dict[str, str]:
    return {
        m.group(2): m.group(1) or "str" for m in re.finditer(r"<(?:(\w+):)?(\w+)>", pattern_text)
    }


def _walk(
    resolver: URLResolver, prefix: str, namespace: str, kwargs: tuple[str, ...]
) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        own = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns, kwargs + own)
        elif isinstance(entry, URLPattern) and entry.name:
            text = prefix + str(entry.pattern)
            yield Route(
                route=text,
                name=namespace + entry.name,
                kwargs=kwargs + own,
                converters=_converters(text),
            )


def all_routes() -> list[Route]:
    return list(_walk(get_resolver(), "", "", ()))


def html_routes() -> list[Route]:
    """Everything a browser submits forms to: not the REST API, not Django's admin."""
    return [r for r in all_routes() if not r.is_api and not r.is_admin]


def api_routes() -> list[Route]:
    return [r for r in all_routes() if r.route.startswith("api/v1/")]


def unknown_kwargs(routes: list[Route], values: Mapping[str, str]) -> set[str]:
    return {k for r in routes for k in r.kwargs if k not in values}


def placeholder_values(routes: list[Route]) -> dict[str, str]:
    """A syntactically valid value for every kwarg (for checks that run before the view)."""
    values: dict[str, str] = {}
    for r in routes:
        for k in r.kwargs:
            values.setdefault(k, str(uuid.uuid4()) if r.converters.get(k) == "uuid" else "x1")
    return values
