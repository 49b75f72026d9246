"""Foreign-object factories for the tenant isolation sweep (kwarg name -> id in that workspace)."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import Workspace
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import TikTokAccountFactory


def _post(workspace: Workspace) -> str:
    return str(PostFactory.create(workspace=workspace).id)


def _media(workspace: Workspace) -> str:
    return str(MediaAssetFactory.create(workspace=workspace).id)


def _review_link(workspace: Workspace) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from calendar_app.models import ReviewLink

    link = ReviewLink.objects.create(
        workspace=workspace, name="Rival client", expires_at=timezone.now() + timedelta(days=3)
    )
    return str(link.id)


def _account(workspace: Workspace) -> str:
    return str(TikTokAccountFactory.create(workspace=workspace).id)


def _note(workspace: Workspace) -> str:
    from datetime import date

    from calendar_app.models import CalendarNote

    return str(CalendarNote.objects.create(workspace=workspace, day=date(2030, 1, 1), text="x").id)


def _template(workspace: Workspace) -> str:
    from calendar_app.models import CaptionTemplate

    return str(CaptionTemplate.objects.create(workspace=workspace, name="t", body="b").id)


def _hashtag_group(workspace: Workspace) -> str:
    from calendar_app.models import HashtagGroup

    return str(HashtagGroup.objects.create(workspace=workspace, name="g", hashtags="#a").id)


def _import(workspace: Workspace) -> str:
    from calendar_app.models import PostImport

    return str(PostImport.objects.create(workspace=workspace, file_name="x.csv").id)


FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {
    "post_id": _post,
    "media_id": _media,
    "account_id": _account,
    "link_id": _review_link,
    "note_id": _note,
    "template_id": _template,
    "hashtag_group_id": _hashtag_group,
    "import_id": _import,
}
