"""`{% form_token %}`: the one-time token that makes a form's submission act once."""

from __future__ import annotations

import uuid
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from later import fragments

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context: Any) -> SafeString:
    # Inside a cached {% fragment %} the token is a placeholder, filled fresh on every serve.
    value = fragments.hole("form_token") if context.get("_fragment_holes") else uuid.uuid4().hex
    return format_html('<input type="hidden" name="form_token" value="{}" data-form-token>', value)
