"""Every HTML form that creates something carries `{% form_token %}` and posts to a view that
honours it (`@once_per_form`), so a double click or a resubmitted page acts once (issue 20).

A new POST form fails here until it either carries the token or is listed in NOT_CREATE with
the reason a repeat is harmless. tests/later/test_double_click_browser.py double-clicks them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [REPO / "templates", *sorted(REPO.glob("*/templates"))]

# (template, url name the form posts to) -> why sending it twice does no harm.
NOT_CREATE: dict[tuple[str, str], str] = {
    ("base.html", "account_logout"): "signing out twice is signing out",
    ("base.html", "accounts:notifications_read"): "marks read",
    ("accounts/invitation_accept.html", "self:Accept invitation"): "a used invitation is spent",
    ("accounts/tiktok_accounts.html", "accounts:tiktok_connect"): "a redirect to TikTok",
    ("accounts/tiktok_accounts.html", "accounts:tiktok_account_color"): "sets a value",
    ("accounts/tiktok_accounts.html", "accounts:tiktok_disconnect"): "removes",
    ("accounts/members.html", "accounts:member_role"): "sets a value",
    ("accounts/members.html", "accounts:member_remove"): "removes",
    ("accounts/members.html", "accounts:invitation_revoke"): "removes",
    ("accounts/api_tokens.html", "accounts:api_token_revoke"): "removes",
    ("accounts/agency/manage.html", "accounts:agency_client_remove"): "removes",
    ("accounts/agency/manage.html", "accounts:agency_member_update"): "sets values",
    ("accounts/agency/manage.html", "accounts:agency_member_remove"): "removes",
    ("accounts/agency/manage.html", "accounts:agency_branding"): "sets values",
    ("accounts/agency/manage.html", "accounts:agency_manage"): "renames",
    ("accounts/workspace_settings.html", "self:Save"): "sets values",
    ("analytics/report_settings.html", "self:Use the agency's branding"): "sets a value",
    ("analytics/report_settings.html", "analytics:report_schedule_delete"): "removes",
    ("calendar_app/caption_library.html", "calendar_app:caption_template_delete"): "removes",
    ("calendar_app/caption_library.html", "calendar_app:hashtag_group_delete"): "removes",
    ("calendar_app/calendar.html", "calendar_app:note_delete"): "removes",
    ("calendar_app/media.html", "calendar_app:media_delete"): "removes",
    ("calendar_app/post_detail.html", "calendar_app:post_delete"): "removes",
    ("calendar_app/_checklist.html", "calendar_app:checklist_dismiss"): "sets a flag",
    ("calendar_app/approvals/queue.html", "approvals:post_approve"): "a state change",
    ("calendar_app/approvals/queue.html", "approvals:link_revoke"): "switches off",
    ("calendar_app/approvals/_post_review.html", "approvals:post_approve"): "a state change",
    ("calendar_app/approvals/_post_review.html", "approvals:post_submit"): "a state change",
    ("calendar_app/publishing_timeline.html", "publishing:post_first_comment_settle"): (
        "claims the first comment before TikTok is called"
    ),
    ("calendar_app/publishing_timeline.html", "publishing:post_retry"): "guarded state change",
    ("calendar_app/publishing_timeline.html", "publishing:post_cancel"): "a state change",
    ("calendar_app/publishing_timeline.html", "publishing:post_resolve"): "a state change",
    ("conversations/team_settings.html", "conversations:label_delete"): "removes",
    ("conversations/saved_reply_edit.html", "self:Save"): "sets values or removes",
    ("conversations/_action.html", "var:url"): "hide, delete, like: TikTok state changes",
    ("conversations/_comment.html", "conversations:assign"): "sets a value",
    ("conversations/_comment.html", "conversations:label"): "toggles a label",
    ("conversations/_comment.html", "conversations:sentiment"): "sets a value",
    ("conversations/_comment.html", "conversations:rule_run_undo"): "undoes once",
    ("conversations/post.html", "conversations:note_delete"): "removes",
}

# Forms that post to their own page: (template, first button's label) -> the URL name.
SELF_POSTING: dict[tuple[str, str], str] = {
    ("accounts/api_tokens.html", "Create token"): "accounts:api_tokens",
    ("accounts/workspace_create.html", "Create workspace"): "accounts:workspace_create",
    ("accounts/agency/create.html", "Create agency"): "accounts:agency_create",
    ("analytics/report_settings.html", "Save branding"): "analytics:report_settings",
    ("analytics/report_settings.html", "Schedule"): "analytics:report_settings",
    ("calendar_app/caption_library.html", "Add template"): "calendar_app:caption_library",
    ("calendar_app/caption_library.html", "Add group"): "calendar_app:caption_library",
    ("calendar_app/import.html", "Preview"): "calendar_app:import_start",
    ("calendar_app/import.html", "Import {{ counts.ok }} post{{ counts.ok|pluralize }}"): (
        "calendar_app:import_detail"
    ),
    ("calendar_app/composer.html", "↑"): "calendar_app:post_create",
    ("calendar_app/approvals/queue.html", "Save"): "approvals:queue",
    ("calendar_app/approvals/queue.html", "Create link"): "approvals:queue",
    ("calendar_app/media.html", "Upload"): "calendar_app:media",
    ("calendar_app/posting_slots.html", "Save slots"): "calendar_app:posting_slots",
    ("conversations/rule_form.html", "Preview on the last {{ dry_run_days }} days"): (
        "conversations:rule_new"
    ),
}

# Views reached without an account that keep the token themselves (later.idempotency.form_once).
FORM_ONCE_INSIDE = {"review:decide"}

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
URL_AS = re.compile(r"{%\s*url\s+'([^']+)'[^%]*?\bas\s+(\w+)\s*%}")


def _forms() -> Iterator[tuple[str, str, str]]:
    """(template name, target, body) of every POST form; target is a URL name, "self:<first
    button label>" for a form that posts to its own page, or "var:<name>" for an action
    taken from the context."""
    for root in TEMPLATE_DIRS:
        for path in sorted(root.rglob("*.html")):
            text = path.read_text()
            named = dict((var, name) for name, var in URL_AS.findall(text))
            for match in FORM.finditer(text):
                attrs, body = match.groups()
                if not re.search(r'method="post"', attrs, re.I):
                    continue
                yield str(path.relative_to(root)), _target(attrs, body, named), body


def _target(attrs: str, body: str, named: dict[str, str]) -> str:
    action = re.search(r'(?:action|hx-post)="([^"]*)"', attrs)
    value = action.group(1) if action else ""
    if url := re.search(r"{%\s*url\s+'([^']+)'", value):
        return url.group(1)
    if var := re.fullmatch(r"{{\s*(\w+)\s*}}", value):
        return named.get(var.group(1), f"var:{var.group(1)}")
    button = re.search(r"<button\b[^>]*>(.*?)</button>", body, re.S)
    label = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", button.group(1))).strip() if button else ""
    return f"self:{label}"


def _views() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                found.setdefault(namespace + p.name, p.callback)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_post_form_carries_a_form_token_or_says_why_a_repeat_is_harmless() -> None:
    missing, stale = [], set(NOT_CREATE)
    forms = list(_forms())
    assert len(forms) > 60, "the template scan found too few forms"
    for template, target, body in forms:
        stale.discard((template, target))
        if "{% form_token %}" in body or (template, target) in NOT_CREATE:
            continue
        missing.append(f"{template} -> {target}")
    assert not missing, (
        "These POST forms carry no {% form_token %}: add it (and @once_per_form on the view), "
        f"or list them in NOT_CREATE with the reason a repeat is harmless: {missing}"
    )
    assert not stale, f"NOT_CREATE names forms that no longer exist: {sorted(stale)}"


def test_every_form_with_a_token_posts_to_a_view_that_acts_once() -> None:
    views = _views()
    wrong = []
    for template, target, body in _forms():
        if "{% form_token %}" not in body:
            continue
        name = SELF_POSTING.get((template, target.removeprefix("self:")), target)
        if name in FORM_ONCE_INSIDE:
            continue
        view = views.get(name)
        if view is None or not getattr(view, "once_per_form", False):
            wrong.append(f"{template} -> {name}")
    assert not wrong, f"the token of these forms is ignored (no @once_per_form): {wrong}"
