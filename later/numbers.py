"""Figures in the reader's own notation: 12,345 in English, 12.345 in German, 12 345 in French.

The page text stays in English; only how numbers are written follows the browser's
Accept-Language, using the number formats Django ships for each locale. A request sets the
locale for its own rendering (`NumberLocaleMiddleware`); work outside a request (a report PDF
built by Celery) writes numbers the English way unless it sets one with `number_locale(...)`.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.utils import numberformat
from django.utils.translation.trans_real import parse_accept_lang_header

DEFAULT = "en"
_current: ContextVar[str] = ContextVar("number_locale", default=DEFAULT)


@lru_cache(maxsize=256)
def _formats(locale: str) -> tuple[str, str, int] | None:
    """(decimal separator, thousands separator, grouping) that Django knows for `locale`."""
    try:
        module = importlib.import_module(f"django.conf.locale.{locale}.formats")
    except (ImportError, ValueError):
        return None
    decimal = getattr(module, "DECIMAL_SEPARATOR", None)
    thousands = getattr(module, "THOUSAND_SEPARATOR", None)
    if not isinstance(decimal, str) or not isinstance(thousands, str):
        return None
    grouping = getattr(module, "NUMBER_GROUPING", 3)
    return decimal, thousands, grouping if isinstance(grouping, int) and grouping > 0 else 3


def locale_from_accept_language(header: str) -> str:
    """The first locale in the header that Django has number formats for ("de-AT" -> "de")."""
    for tag, _quality in parse_accept_lang_header(header[:500]):
        if tag == "*":
            continue
        language, _, region = tag.lower().partition("-")
        for candidate in (f"{language}_{region.upper()}" if region else "", language):
            if candidate and candidate.replace("_", "").isalpha() and _formats(candidate):
                return candidate
    return DEFAULT


@contextlib.contextmanager
def number_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if _formats(locale) else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def number_locale_name() -> str:
    """The locale numbers are written in now (part of every cached fragment's key)."""
    return _current.get()


def figure(value: object, decimals: int | None = None) -> str:
    """`value` with the current locale's separators; what is not a number comes back as text."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return "" if value is None else str(value)
    decimal_sep, thousands_sep, grouping = _formats(_current.get()) or (".", ",", 3)
    return numberformat.format(
        value,
        decimal_sep,
        decimal_pos=decimals,
        grouping=grouping,
        thousand_sep=thousands_sep,
        force_grouping=True,
        use_l10n=False,
    )


class NumberLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Accept-Language", "")
        with number_locale(locale_from_accept_language(header) if header else DEFAULT):
            return self.get_response(request)
