from django.urls import path

from calendar_app.publishing import api, views

app_name = "publishing"

_post = "w/<uuid:workspace_id>/posts/<uuid:post_id>/"
_api = "api/v1/w/<uuid:workspace_id>/posts/<uuid:post_id>/"

urlpatterns = [
    path(f"{_post}publishing/", views.post_publishing, name="post_publishing"),
    path(f"{_post}timeline/", views.post_timeline_fragment, name="post_timeline"),
    path(f"{_post}retry/", views.post_retry, name="post_retry"),
    path(f"{_post}cancel/", views.post_cancel, name="post_cancel"),
    path(f"{_post}resolve/", views.post_resolve, name="post_resolve"),
    path(
        f"{_post}first-comment/settle/",
        views.post_first_comment_settle,
        name="post_first_comment_settle",
    ),
    path(f"{_api}timeline/", api.PostTimelineAPI.as_view(), name="api_post_timeline"),
    path(f"{_api}publish/retry/", api.PostRetryAPI.as_view(), name="api_post_retry"),
    path(f"{_api}publish/cancel/", api.PostCancelAPI.as_view(), name="api_post_cancel"),
    path(f"{_api}publish/resolve/", api.PostResolveAPI.as_view(), name="api_post_resolve"),
    path(
        f"{_api}first-comment/settle/",
        api.PostFirstCommentSettleAPI.as_view(),
        name="api_post_first_comment_settle",
    ),
]
