"""`{% form_token %}`: the one-time token that makes a form's submission act once."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def form_token() -> SafeString:
    return format_html(
        '<input type="hidden" name="form_token" value="{}" data-form-token>', uuid.uuid4().hex
    )
