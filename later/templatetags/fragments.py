"""`{% fragment "name" value … %}…{% endfragment %}`: render once, serve from the fragment cache
until one of the named values (taken deeply, see later/fragments.py) changes.

Name every value the block reads that is not constant: the object(s) it shows, the viewer's
role flags, the user id if the block says "me", a time-relative string such as
`created|timesince`. `{% csrf_token %}` and `{% form_token %}` inside are filled per request.
A last `timeout=<seconds>` shortens how long the shared cache keeps it (page bodies keyed on
the minute need two minutes, not a day).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, Node, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from later import fragments

register = template.Library()

FRAGMENT_HOLES = "_fragment_holes"


class FragmentNode(Node):
    def __init__(
        self,
        name: FilterExpression,
        values: list[FilterExpression],
        nodelist: NodeList,
        timeout: int = fragments.FRAGMENT_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        self.values = values
        self.nodelist = nodelist
        self.timeout = timeout

    def render(self, context: Context) -> SafeString:
        name = str(self.name.resolve(context))
        key = fragments.fragment_key(name, [v.resolve(context) for v in self.values])
        html = fragments.fragment_get(key)
        if html is None:
            with context.push({"csrf_token": fragments.hole("csrf"), FRAGMENT_HOLES: True}):
                html = self.nodelist.render(context)
            fragments.fragment_set(key, html, self.timeout)
        if in_fragment(context):
            return mark_safe(html)  # noqa: S308 - an enclosing fragment fills the holes when it is served
        csrf = context.get("csrf_token")
        return mark_safe(fragments.fill_holes(html, csrf_token=str(csrf) if csrf else ""))  # noqa: S308 - rendered by our templates


@register.tag("fragment")
def do_fragment(parser: Parser, token: Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name, then the values it shows")
    timeout = fragments.FRAGMENT_TIMEOUT_SECONDS
    if bits[-1].startswith("timeout="):
        try:
            timeout = int(bits.pop()[len("timeout=") :])
        except ValueError:
            raise template.TemplateSyntaxError("{% fragment %} timeout= takes seconds") from None
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        parser.compile_filter(bits[1]),
        [parser.compile_filter(b) for b in bits[2:]],
        nodelist,
        timeout,
    )


def in_fragment(context: Any) -> bool:
    return bool(context.get(FRAGMENT_HOLES))
