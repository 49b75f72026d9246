from django.urls import path, register_converter

from conversations import api, views

app_name = "conversations"


class PersonRefConverter:
    """Only the product's own encoding of a commenter (see `models.person_ref`) routes."""

    regex = "[A-Za-z0-9_-]{1,200}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PersonRefConverter, "personref")

W = "w/<uuid:workspace_id>/conversations/"
A = "api/v1/w/<uuid:workspace_id>/comments/"

urlpatterns = [
    path(W, views.inbox, name="inbox"),
    path(W + "new/", views.inbox_new, name="inbox_new"),
    path(W + "bulk/", views.bulk_action, name="bulk"),
    path(W + "videos/<uuid:video_id>/", views.post_detail, name="post"),
    path(W + "people/<personref:person_ref>/", views.person_detail, name="person"),
    path(W + "comments/<uuid:comment_id>/reply/", views.comment_reply, name="reply"),
    *[
        path(
            W + f"comments/<uuid:comment_id>/{action}/",
            views.comment_action,
            {"action": action},
            name=f"comment_{action}",
        )
        for action in views.ACTIONS
    ],
    # REST API
    path(A, api.CommentListApi.as_view(), name="api_comments"),
    path(A + "bulk/", api.CommentBulkApi.as_view(), name="api_comments_bulk"),
    path(A + "<uuid:comment_id>/", api.CommentDetailApi.as_view(), name="api_comment"),
    path(A + "<uuid:comment_id>/reply/", api.CommentReplyApi.as_view(), name="api_comment_reply"),
    path(A + "<uuid:comment_id>/hide/", api.CommentHideApi.as_view(), name="api_comment_hide"),
    path(A + "<uuid:comment_id>/like/", api.CommentLikeApi.as_view(), name="api_comment_like"),
    path(
        A + "<uuid:comment_id>/handled/",
        api.CommentHandledApi.as_view(),
        name="api_comment_handled",
    ),
    path(A + "<uuid:comment_id>/read/", api.CommentReadApi.as_view(), name="api_comment_read"),
]
