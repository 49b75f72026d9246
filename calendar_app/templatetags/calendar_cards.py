"""`{% cal_card post %}`: a calendar card (see calendar_app.cards)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from calendar_app.cards import card_html
from calendar_app.models import Post

register = template.Library()


@register.simple_tag(takes_context=True)
def cal_card(context: Any, post: Post, list_row: bool = False, client: bool = False) -> SafeString:
    """`client=True` on the cross-client calendar: the post's own workspace, its own role."""
    if client:
        return card_html(
            post=post,
            workspace_id=post.workspace_id,
            can_edit=bool(getattr(post, "can_edit", False)),
            list_row=list_row,
            client=post.workspace.name,
        )
    return card_html(
        post=post,
        workspace_id=context["workspace"].id,
        can_edit=bool(context.get("can_edit")),
        list_row=list_row,
    )
