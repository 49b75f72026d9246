"""What the agency home shows per client from Conversations (`AGENCY_CLIENT_FIGURES`): fans'
comments nobody has read yet. One query for every client."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from accounts.agency_selectors import ClientFigure, ClientFigures, workspace_urls
from accounts.models import Workspace
from conversations.models import Comment


def client_figures(*, workspaces: list[Workspace], now: dt.datetime) -> ClientFigures:
    # The inbox's own "Unread" chip: fans' comments, not deleted, not read (a partial index).
    rows = (
        Comment.objects.filter(
            workspace_id__in=[ws.pk for ws in workspaces],
            is_own=False,
            deleted_at__isnull=True,
            read_at__isnull=True,
        )
        .values("workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["workspace_id"]: row["n"] for row in rows}
    inboxes = workspace_urls("conversations:inbox", workspaces)
    return {
        ws.pk: {
            "unread_comments": ClientFigure(
                value=counts.get(ws.pk, 0), url=inboxes[ws.pk] + "?status=unread"
            )
        }
        for ws in workspaces
    }
