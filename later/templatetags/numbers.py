"""`{% load numbers %}` then `{{ views|figure }}` or `{{ rate|figure:1 }}`: see later/numbers.py."""

from __future__ import annotations

from django import template

from later.numbers import figure as _figure

register = template.Library()


@register.filter
def figure(value: object, decimals: int | None = None) -> str:
    return _figure(value, decimals)
