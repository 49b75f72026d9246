"""HTML for sharing the inbox: assignment, labels, notes, sentiment override, rule undo,
the team settings (labels, saved replies, moderation rules with dry run) and response times."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Role, TikTokAccount
from conversations import response_times as rt
from conversations import rules, selectors, teamwork
from conversations.models import (
    Comment,
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    SavedReply,
    ThreadNote,
)
from conversations.views import _back, _is_htmx, _render_item
from later.errors import AppError, ValidationFailed
from later.idempotency import once_per_form
from later.tenancy import WorkspaceRequest, workspace_view

LOAD_COMMENT = {"comment": selectors.comment_detailed}


def _done(request: WorkspaceRequest, comment: Comment, message: str) -> HttpResponse:
    if _is_htmx(request):
        fresh = selectors.comment_detailed(workspace=request.workspace, comment_id=comment.pk)
        return _render_item(request, fresh)
    messages.success(request, message)
    return _back(request)


def _failed(request: WorkspaceRequest, comment: Comment, exc: AppError) -> HttpResponse:
    if _is_htmx(request):
        return _render_item(request, comment, error=exc.message)
    messages.error(request, exc.message)
    return _back(request)


def _assignee(request: WorkspaceRequest, raw: str) -> Any:
    if raw == "me":
        return request.user
    if not raw:
        return None
    return teamwork.assignable_member(workspace=request.workspace, public_id=raw)


@workspace_view(min_role=Role.EDITOR, load=LOAD_COMMENT)
@require_POST
def comment_assign(request: WorkspaceRequest, comment: Comment) -> HttpResponse:
    try:
        assignee = _assignee(request, request.POST.get("assignee", "").strip())
        teamwork.comments_assign(
            workspace=request.workspace,
            comments=[comment],
            assignee=assignee,
            by=request.user,
            whole_thread=request.POST.get("thread") == "1",
        )
    except AppError as exc:
        return _failed(request, comment, exc)
    who = "nobody" if assignee is None else (assignee.get_full_name() or assignee.email)
    return _done(request, comment, f"Assigned to {who}.")


@workspace_view(min_role=Role.EDITOR, load=LOAD_COMMENT)
@require_POST
def comment_label(request: WorkspaceRequest, comment: Comment) -> HttpResponse:
    workspace = request.workspace
    try:
        new_name = request.POST.get("new_label", "").strip()
        if new_name:
            label = teamwork.label_create(workspace=workspace, name=new_name)
        else:
            label = teamwork.label_get(workspace=workspace, label_id=request.POST.get("label", ""))
        teamwork.comments_label(
            workspace=workspace,
            comments=[comment],
            label=label,
            add=request.POST.get("op", "add") != "remove",
            user=request.user,
        )
    except AppError as exc:
        return _failed(request, comment, exc)
    return _done(request, comment, f"Label “{label.name}” updated.")


@workspace_view(min_role=Role.EDITOR, load=LOAD_COMMENT)
@require_POST
def comment_sentiment(request: WorkspaceRequest, comment: Comment) -> HttpResponse:
    try:
        teamwork.comment_set_sentiment(
            comment=comment,
            sentiment=request.POST.get("sentiment", "").strip(),
            user=request.user,
        )
    except AppError as exc:
        return _failed(request, comment, exc)
    return _done(request, comment, "Sentiment updated.")


@workspace_view(min_role=Role.EDITOR, load=LOAD_COMMENT)
@require_POST
@once_per_form
def note_add(request: WorkspaceRequest, comment: Comment) -> HttpResponse:
    try:
        token = uuid.UUID(request.POST.get("client_token", ""))
    except ValueError:
        token = None
    try:
        teamwork.thread_note_add(
            comment=comment,
            author=request.user,
            text=request.POST.get("note", ""),
            client_token=token,
        )
    except AppError as exc:
        return _failed(request, comment, exc)
    return _done(request, comment, "Note added. Only your workspace sees it.")


@workspace_view(min_role=Role.EDITOR, load={"note": selectors.note_get})
@require_POST
def note_delete(request: WorkspaceRequest, note: ThreadNote) -> HttpResponse:
    try:
        teamwork.thread_note_delete(note=note, membership=request.membership)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Note deleted.")
    return _back(request)


@workspace_view(min_role=Role.EDITOR, load={"run": rules.rule_run_get})
@require_POST
def rule_run_undo(request: WorkspaceRequest, run: RuleRun) -> HttpResponse:
    try:
        rules.rule_run_undo(run=run, user=request.user)
    except AppError as exc:
        return _failed(request, run.comment, exc)
    return _done(request, run.comment, "Undone.")


# --------------------------------------------------------------------------- team settings


def _settings_context(request: WorkspaceRequest, **extra: Any) -> dict[str, Any]:
    workspace = request.workspace
    return {
        "labels": selectors.workspace_labels(workspace=workspace),
        "saved_replies": selectors.workspace_saved_replies(workspace=workspace),
        "rules": selectors.workspace_rules(workspace=workspace),
        "accounts": selectors.comment_accounts(workspace=workspace),
        "rule_actions": RuleAction.choices,
        "placeholders": teamwork.PLACEHOLDERS,
        "reply_max": teamwork.REPLY_MAX_CHARS,
        **extra,
    }


@workspace_view()
@require_safe
def team_settings(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "conversations/team_settings.html", _settings_context(request))


def _to_settings(request: WorkspaceRequest, anchor: str) -> HttpResponse:
    url = reverse("conversations:team", args=[request.workspace.pk])
    return redirect(f"{url}#{anchor}")


@workspace_view(min_role=Role.EDITOR)
@require_POST
@once_per_form
def label_create(request: WorkspaceRequest) -> HttpResponse:
    try:
        label = teamwork.label_create(
            workspace=request.workspace,
            name=request.POST.get("name", ""),
            color=request.POST.get("color", "").strip(),
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Label “{label.name}” is ready.")
    return _to_settings(request, "labels")


@workspace_view(min_role=Role.EDITOR, load={"label": teamwork.label_get})
@require_POST
def label_delete(request: WorkspaceRequest, label: Label) -> HttpResponse:
    label.delete()
    messages.success(request, f"Label “{label.name}” deleted.")
    return _to_settings(request, "labels")


@workspace_view(min_role=Role.EDITOR)
@require_POST
@once_per_form
def saved_reply_create(request: WorkspaceRequest) -> HttpResponse:
    try:
        reply = teamwork.saved_reply_create(
            workspace=request.workspace,
            title=request.POST.get("title", ""),
            text=request.POST.get("text", ""),
            user=request.user,
        )
    except AppError as exc:
        return render(
            request,
            "conversations/team_settings.html",
            _settings_context(request, reply_error=exc.message, reply_draft=request.POST),
            status=exc.status,
        )
    messages.success(request, f"Saved reply “{reply.title}” is ready.")
    return _to_settings(request, "saved-replies")


@workspace_view(min_role=Role.EDITOR, load={"reply": selectors.saved_reply_get})
@require_http_methods(["GET", "HEAD", "POST"])
def saved_reply_edit(request: WorkspaceRequest, reply: SavedReply) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("delete"):
            reply.delete()
            messages.success(request, f"Saved reply “{reply.title}” deleted.")
            return _to_settings(request, "saved-replies")
        try:
            teamwork.saved_reply_update(
                saved_reply=reply,
                title=request.POST.get("title", ""),
                text=request.POST.get("text", ""),
            )
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Saved reply “{reply.title}” updated.")
        return _to_settings(request, "saved-replies")
    return render(
        request,
        "conversations/saved_reply_edit.html",
        {
            "reply": reply,
            "placeholders": teamwork.PLACEHOLDERS,
            "reply_max": teamwork.REPLY_MAX_CHARS,
        },
    )


def _rule_input(request: WorkspaceRequest) -> rules.RuleInput:
    workspace = request.workspace
    data = request.POST
    label = None
    if data.get("action") == RuleAction.LABEL:
        raw = data.get("label", "")
        label = teamwork.label_get(workspace=workspace, label_id=raw) if raw else None
    account = None
    if data.get("account"):
        try:
            account = TikTokAccount.objects.for_workspace(workspace).get(pk=data["account"])
        except (TikTokAccount.DoesNotExist, ValueError, DjangoValidationError) as exc:
            raise ValidationFailed("Choose one of this workspace's accounts.") from exc
    return rules.RuleInput.clean(
        name=data.get("name", ""),
        action=data.get("action", RuleAction.HIDE),
        label=label,
        account=account,
        blocked_words=data.get("blocked_words", ""),
        block_links=data.get("block_links") == "on",
        blocked_authors=data.get("blocked_authors", ""),
        is_enabled=data.get("is_enabled") == "on",
    )


@workspace_view(min_role=Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form
def rule_new(request: WorkspaceRequest) -> HttpResponse:
    return _rule_form(request, None)


@workspace_view(min_role=Role.ADMIN, load={"rule": rules.moderation_rule_get})
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: WorkspaceRequest, rule: ModerationRule) -> HttpResponse:
    return _rule_form(request, rule)


def _rule_form(request: WorkspaceRequest, rule: ModerationRule | None) -> HttpResponse:
    """New or existing rule. "Preview" runs the dry run over 30 days and saves nothing."""
    workspace = request.workspace
    context: dict[str, Any] = {"rule": rule, "form": request.POST or None}
    if request.method == "POST":
        try:
            if request.POST.get("delete") and rule is not None:
                rule.delete()
                messages.success(request, f"Rule “{rule.name}” deleted.")
                return _to_settings(request, "rules")
            data = _rule_input(request)
            if request.POST.get("preview"):
                context["dry_run"] = rules.moderation_rule_dry_run(
                    workspace=workspace, spec=data.spec
                )
            else:
                if rule is None:
                    rule = rules.moderation_rule_create(
                        workspace=workspace,
                        data=data,
                        user=request.user,
                    )
                else:
                    rules.moderation_rule_update(rule=rule, data=data)
                state = "on" if rule.is_enabled else "saved, switched off"
                messages.success(request, f"Rule “{rule.name}” {state}.")
                return _to_settings(request, "rules")
        except AppError as exc:
            context["error"] = exc.message
    context.update(
        labels=selectors.workspace_labels(workspace=workspace),
        accounts=selectors.comment_accounts(workspace=workspace),
        dry_run_days=rules.DRY_RUN_DAYS,
    )
    return render(
        request, "conversations/rule_form.html", context, status=400 if "error" in context else 200
    )


# --------------------------------------------------------------------------- response times


def _period(request: WorkspaceRequest) -> rt.Period:
    """The period the query string names (preset `days`, or `start` and `end`)."""
    return rt.period_parse(
        workspace=request.workspace,
        days=request.GET.get("days"),
        start=request.GET.get("start"),
        end=request.GET.get("end"),
    )


@workspace_view()
@require_safe
def response_times(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    error = ""
    try:
        period = _period(request)
    except ValidationFailed as exc:
        period, error = rt.Period.last(workspace=workspace, days=7), exc.message
    account_id = selectors.uuid_or_none(request.GET.get("account"))
    report = rt.response_times(workspace=workspace, period=period, account_id=account_id)
    query = {**period.query, **({"account": str(account_id)} if account_id else {})}
    return render(
        request,
        "conversations/response_times.html",
        {
            "report": report,
            "period": period,
            "periods": rt.PERIODS,
            "max_period_days": rt.MAX_PERIOD_DAYS,
            "account_id": account_id,
            "accounts": selectors.comment_accounts(workspace=workspace),
            "csv_query": urlencode(query),
            "error": error,
            # What was typed stays in the fields, so a wrong date can be corrected. A preset
            # leaves them empty: the account menu submits the form and keeps the preset.
            "form_start": request.GET.get("start", "" if period.days else str(period.start))[:20],
            "form_end": request.GET.get("end", "" if period.days else str(period.end))[:20],
            "today": timezone.now().astimezone(workspace.tz).date(),
        },
        status=400 if error else 200,
    )


@workspace_view()
@require_safe
def response_times_csv(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    try:
        period = _period(request)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    account_id = selectors.uuid_or_none(request.GET.get("account"))
    report = rt.response_times(workspace=workspace, period=period, account_id=account_id)
    response = HttpResponse(rt.response_times_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="response-times-{period.slug}.csv"'
    return response
