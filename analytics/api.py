"""REST API: the overview and the posts table, the same numbers as the HTML pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import TikTokAccount, TikTokVideo
from analytics import selectors
from analytics.best_times import Source, best_times_build, best_times_suggest
from analytics.models import VideoSnapshot
from analytics.selectors import Card, DateRange
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView

FILTER_PARAMETERS = [
    OpenApiParameter("range", str, enum=list(selectors.RANGE_CHOICES)),
    OpenApiParameter("start", str, description="YYYY-MM-DD, with range=custom"),
    OpenApiParameter("end", str, description="YYYY-MM-DD, with range=custom"),
    OpenApiParameter("account", str, description="TikTok account id; all accounts if omitted"),
]


class VideoPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def card_dict(card: Card) -> dict[str, Any]:
    return {
        "key": card.key,
        "label": card.label,
        "value": _round(card.value) if card.kind == "rate" else card.value,
        "previous": _round(card.previous) if card.kind == "rate" else card.previous,
        "change": _round(card.change),
        "change_percent": _round(card.change_percent),
        "headline": card.headline,
        "days_with_data": card.days_with_data,
        "note": card.note,
        # Levels summed across accounts compare only accounts measured at both ends.
        "compared_value": card.compared_value if card.level else card.value,
        "excluded": list(card.excluded),
    }


def video_dict(video: TikTokVideo) -> dict[str, Any]:
    return {
        "id": str(video.pk),
        "tiktok_video_id": video.video_id,
        "account_id": str(video.account_id),
        "video_views": getattr(video, "latest_views", video.view_count),
        "measured_at": _iso(getattr(video, "measured_at", None)),
        "posted_at": video.posted_at.isoformat(),
        "caption": video.caption,
        "share_url": video.share_url,
        "likes": getattr(video, "latest_likes", video.like_count),
        "comments": getattr(video, "latest_comments", video.comment_count),
        "shares": getattr(video, "latest_shares", video.share_count),
        "engagement_rate_percent": _round(getattr(video, "engagement_rate", None)),
        "views_1h": getattr(video, "views_1h", None),
        "views_24h": getattr(video, "views_24h", None),
        "views_7d": getattr(video, "views_7d", None),
        "reach": getattr(video, "reach", None),
        "average_time_watched": _round(getattr(video, "average_time_watched", None)),
        "full_video_watched_rate": _round(getattr(video, "full_video_watched_rate", None), 4),
        "new_followers": getattr(video, "new_followers", None),
        # The posts table's breakdown columns, as percents (None: TikTok has not reported it).
        "for_you_share_percent": _round(getattr(video, "for_you_share", None)),
        "new_viewer_share_percent": _round(getattr(video, "new_viewer_share", None)),
        "retention_mid_share_percent": _round(getattr(video, "retention_mid_share", None)),
    }


class VideoMetricsSerializer(serializers.Serializer[Any]):
    """The schema of `video_dict` (a test holds the two to the same fields)."""

    id = serializers.UUIDField()
    tiktok_video_id = serializers.CharField()
    account_id = serializers.UUIDField()
    video_views = serializers.IntegerField(help_text="At the latest snapshot (measured_at).")
    measured_at = serializers.DateTimeField(allow_null=True)
    posted_at = serializers.DateTimeField()
    caption = serializers.CharField(allow_blank=True)
    share_url = serializers.CharField(allow_blank=True)
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    shares = serializers.IntegerField()
    engagement_rate_percent = serializers.FloatField(allow_null=True)
    views_1h = serializers.IntegerField(allow_null=True)
    views_24h = serializers.IntegerField(
        allow_null=True, help_text="The first snapshot 24-27 h after publishing."
    )
    views_7d = serializers.IntegerField(allow_null=True)
    reach = serializers.IntegerField(allow_null=True)
    average_time_watched = serializers.FloatField(allow_null=True, help_text="Seconds.")
    full_video_watched_rate = serializers.FloatField(allow_null=True)
    new_followers = serializers.IntegerField(allow_null=True)
    for_you_share_percent = serializers.FloatField(
        allow_null=True,
        help_text="Share of views from the For You feed (impression sources), Business only.",
    )
    new_viewer_share_percent = serializers.FloatField(
        allow_null=True, help_text="Share of new viewers (audience types), Business only."
    )
    retention_mid_share_percent = serializers.FloatField(
        allow_null=True,
        help_text="Share of viewers still watching at the middle of the video (retention "
        "curve), Business only.",
    )


class VideoPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VideoMetricsSerializer(many=True)


class VideoSnapshotSerializer(serializers.Serializer[Any]):
    captured_at = serializers.DateTimeField()
    date = serializers.DateField()
    views = serializers.IntegerField()
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    shares = serializers.IntegerField()
    reach = serializers.IntegerField(allow_null=True)
    average_time_watched = serializers.FloatField(allow_null=True)
    full_video_watched_rate = serializers.FloatField(allow_null=True)
    impression_sources = serializers.DictField(child=serializers.FloatField(allow_null=True))
    new_followers = serializers.IntegerField(allow_null=True)
    total_time_watched = serializers.FloatField(allow_null=True)
    retention = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="[[second, share still watching], ...] from TikTok's retention curve.",
    )
    audience_types = serializers.DictField(child=serializers.FloatField(allow_null=True))


class VideoDetailSerializer(VideoMetricsSerializer):
    snapshots = VideoSnapshotSerializer(many=True)


def snapshot_dict(snapshot: VideoSnapshot) -> dict[str, Any]:
    return {
        "captured_at": snapshot.captured_at.isoformat(),
        "date": snapshot.date.isoformat(),
        "views": snapshot.views,
        "likes": snapshot.likes,
        "comments": snapshot.comments,
        "shares": snapshot.shares,
        "reach": snapshot.reach,
        "average_time_watched": snapshot.average_time_watched,
        "full_video_watched_rate": snapshot.full_video_watched_rate,
        "impression_sources": snapshot.impression_sources,
        "new_followers": snapshot.new_followers,
        "total_time_watched": snapshot.total_time_watched,
        "retention": snapshot.retention,
        "audience_types": snapshot.audience_types,
    }


class _FilteredAPI(WorkspaceAPIView):
    def filters(
        self, request: Request
    ) -> tuple[DateRange, list[TikTokAccount], TikTokAccount | None]:
        period = selectors.date_range_parse(
            workspace=self.workspace,
            range_key=request.query_params.get("range"),
            start=request.query_params.get("start"),
            end=request.query_params.get("end"),
        )
        accounts = list(selectors.accounts_for_analytics(workspace=self.workspace))
        account = selectors.account_resolve(
            accounts=accounts, account_id=request.query_params.get("account")
        )
        return period, accounts, account


class OverviewAPI(_FilteredAPI):
    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: dict})
    def get(self, request: Request, workspace_id: Any) -> Response:
        period, accounts, account = self.filters(request)
        data = selectors.overview_build(
            workspace=self.workspace, period=period, accounts=accounts, account=account
        )
        return Response(
            {
                "range": {"start": period.start, "end": period.end, "key": period.key},
                "previous_range": {"start": data.previous.start, "end": data.previous.end},
                "account_id": str(account.pk) if account else None,
                "cards": [card_dict(card) for card in data.cards],
                "daily": [
                    {"date": day, "followers": followers, "video_views": views, "posts": posts}
                    for (day, followers), (_, views), (_, posts) in zip(
                        data.followers_series, data.views_series, data.posts_series, strict=True
                    )
                ],
                "followers_by_account": [
                    {
                        "account_id": str(line.account.pk),
                        "handle": line.account.handle,
                        "color": line.account.color,
                        "followers": [
                            {"date": day, "followers": value} for day, value in line.points
                        ],
                    }
                    for line in data.followers_by_account
                ],
                "audience": data.audience,
                "empty_reasons": data.empty_reasons,
            }
        )


class VideoListAPI(_FilteredAPI):
    @extend_schema(
        operation_id="analytics_videos_list",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "sort",
                str,
                description="A column, descending with a leading '-': "
                + ", ".join(selectors.SORTS)
                + f" (default {selectors.DEFAULT_SORT}).",
            ),
        ],
        responses={200: VideoPageSerializer},
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        period, _accounts, account = self.filters(request)
        videos = selectors.videos_for_period(
            workspace=self.workspace,
            period=period,
            account=account,
            sort=request.query_params.get("sort"),
        )
        paginator = VideoPagination()
        page = paginator.paginate_queryset(videos, request, view=self) or []
        return paginator.get_paginated_response([video_dict(video) for video in page])


class VideoDetailAPI(WorkspaceObjectAPIView[TikTokVideo]):
    load = selectors.video_get

    @extend_schema(operation_id="analytics_video_retrieve", responses={200: VideoDetailSerializer})
    def get(self, request: Request, workspace_id: Any, video_id: Any) -> Response:
        video = self.object
        body = video_dict(video)
        body["snapshots"] = [snapshot_dict(s) for s in selectors.video_snapshots(video=video)]
        return Response(body)


def _source_dict(source: Source) -> dict[str, Any]:
    return {
        "key": source.key,
        "label": source.label,
        "confidence": source.confidence,
        "samples": source.samples,
        "sample_unit": source.sample_unit,
        "explanation": source.explanation,
        "first": source.first,
        "last": source.last,
        "cells": [
            {
                "weekday": cell.weekday,
                "hour": cell.hour,
                "index": round(cell.index, 4),
                "samples": cell.samples,
                "mean_views_24h": _round(cell.mean_views, 1),
            }
            for cell in sorted(source.cells.values(), key=lambda c: (c.weekday, c.hour))
        ],
    }


class BestTimesAPI(WorkspaceAPIView):
    """Weekday (0 = Monday) by hour heatmaps in the workspace's time zone, and suggestions."""

    @extend_schema(
        operation_id="analytics_best_times",
        parameters=[OpenApiParameter("account", str, description="all accounts if omitted")],
        responses={200: dict},
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        accounts = list(selectors.accounts_for_analytics(workspace=self.workspace))
        account = selectors.account_resolve(
            accounts=accounts, account_id=request.query_params.get("account")
        )
        data = best_times_build(workspace=self.workspace, account=account, accounts=accounts)
        suggestions = best_times_suggest(workspace=self.workspace, account=account, data=data)
        return Response(
            {
                "account_id": str(account.pk) if account else None,
                "time_zone": data.time_zone,
                "confidence": data.confidence,
                "enough_data": data.enough_data,
                "sources": [_source_dict(source) for source in data.sources],
                "suggestions": [
                    {
                        "at": item.at.isoformat(),
                        "score": round(item.score, 4),
                        "confidence": item.confidence,
                        "sources": list(item.sources),
                    }
                    for item in suggestions
                ],
            }
        )
