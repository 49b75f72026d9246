"""Caption templates and hashtag groups: text a workspace reuses, inserted from the composer."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.models import Workspace
from calendar_app.captions import MAX_CAPTION_UTF16, utf16_length
from calendar_app.models import CaptionTemplate, HashtagGroup
from later.errors import Conflict, NotFound, ValidationFailed

MAX_NAME = 80
MAX_HASHTAGS = 30
_HASHTAG = re.compile(r"^#[^\s#@]{1,100}$")


def _name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValidationFailed("Give it a name.", code="name_required", details={"field": "name"})
    if len(name) > MAX_NAME:
        raise ValidationFailed(
            f"A name holds at most {MAX_NAME} characters.",
            code="name_too_long",
            details={"field": "name"},
        )
    return name


def _unique(workspace: Workspace, model: Any, name: str) -> None:
    if model.objects.for_workspace(workspace).filter(name__iexact=name).exists():
        raise Conflict(
            f"“{name}” already exists in this workspace; choose another name.",
            code="name_taken",
            details={"field": "name"},
        )


def caption_template_list(*, workspace: Workspace) -> QuerySet[CaptionTemplate]:
    return CaptionTemplate.objects.for_workspace(workspace).order_by("name")


def caption_template_get(*, workspace: Workspace, template_id: Any) -> CaptionTemplate:
    try:
        return CaptionTemplate.objects.for_workspace(workspace).get(pk=template_id)
    except (CaptionTemplate.DoesNotExist, ValueError) as exc:
        raise NotFound("Caption template not found.") from exc


def caption_template_create(*, workspace: Workspace, name: str, body: str) -> CaptionTemplate:
    name = _name(name)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationFailed(
            "Write the template's text.", code="body_required", details={"field": "body"}
        )
    if utf16_length(body) > MAX_CAPTION_UTF16:
        raise ValidationFailed(
            f"A template can't be longer than a caption ({MAX_CAPTION_UTF16:,} characters).",
            code="body_too_long",
            details={"field": "body"},
        )
    _unique(workspace, CaptionTemplate, name)
    try:
        with transaction.atomic():
            return CaptionTemplate.objects.create(workspace=workspace, name=name, body=body)
    except IntegrityError as exc:  # a concurrent create with the same name
        raise Conflict(f"“{name}” already exists in this workspace.", code="name_taken") from exc


def caption_template_delete(*, workspace: Workspace, template: CaptionTemplate) -> None:
    CaptionTemplate.objects.for_workspace(workspace).filter(pk=template.pk).delete()


def hashtags_clean(raw: str) -> str:
    """“#a, b #c” -> “#a #b #c”; each tag checked, duplicates dropped, order kept."""
    tags: list[str] = []
    for token in (raw or "").replace(",", " ").split():
        tag = token if token.startswith("#") else f"#{token}"
        if not _HASHTAG.match(tag):
            raise ValidationFailed(
                f"“{token}” is not a hashtag (no spaces, # or @ inside).",
                code="invalid_hashtag",
                details={"field": "hashtags"},
            )
        if tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    if not tags:
        raise ValidationFailed(
            "Add at least one hashtag.", code="hashtags_required", details={"field": "hashtags"}
        )
    if len(tags) > MAX_HASHTAGS:
        raise ValidationFailed(
            f"A group holds at most {MAX_HASHTAGS} hashtags.",
            code="too_many_hashtags",
            details={"field": "hashtags"},
        )
    return " ".join(tags)


def hashtag_group_list(*, workspace: Workspace) -> QuerySet[HashtagGroup]:
    return HashtagGroup.objects.for_workspace(workspace).order_by("name")


def hashtag_group_get(*, workspace: Workspace, hashtag_group_id: Any) -> HashtagGroup:
    try:
        return HashtagGroup.objects.for_workspace(workspace).get(pk=hashtag_group_id)
    except (HashtagGroup.DoesNotExist, ValueError) as exc:
        raise NotFound("Hashtag group not found.") from exc


def hashtag_group_create(*, workspace: Workspace, name: str, hashtags: str) -> HashtagGroup:
    name = _name(name)
    cleaned = hashtags_clean(hashtags)
    _unique(workspace, HashtagGroup, name)
    try:
        with transaction.atomic():
            return HashtagGroup.objects.create(workspace=workspace, name=name, hashtags=cleaned)
    except IntegrityError as exc:
        raise Conflict(f"“{name}” already exists in this workspace.", code="name_taken") from exc


def hashtag_group_delete(*, workspace: Workspace, group: HashtagGroup) -> None:
    HashtagGroup.objects.for_workspace(workspace).filter(pk=group.pk).delete()
