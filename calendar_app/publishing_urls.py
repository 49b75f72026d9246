from django.urls import path

from calendar_app import publishing_api, publishing_views

app_name = "publishing"

_post = "w/<uuid:workspace_id>/posts/<uuid:post_id>/"
_api = "api/v1/w/<uuid:workspace_id>/posts/<uuid:post_id>/"

urlpatterns = [
    path(f"{_post}publishing/", publishing_views.post_publishing, name="post_publishing"),
    path(f"{_post}timeline/", publishing_views.post_timeline_fragment, name="post_timeline"),
    path(f"{_post}retry/", publishing_views.post_retry, name="post_retry"),
    path(f"{_post}cancel/", publishing_views.post_cancel, name="post_cancel"),
    path(f"{_post}resolve/", publishing_views.post_resolve, name="post_resolve"),
    path(f"{_api}timeline/", publishing_api.PostTimelineAPI.as_view(), name="api_post_timeline"),
    path(f"{_api}publish/retry/", publishing_api.PostRetryAPI.as_view(), name="api_post_retry"),
    path(f"{_api}publish/cancel/", publishing_api.PostCancelAPI.as_view(), name="api_post_cancel"),
    path(
        f"{_api}publish/resolve/", publishing_api.PostResolveAPI.as_view(), name="api_post_resolve"
    ),
]
