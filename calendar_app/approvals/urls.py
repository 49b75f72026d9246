from django.urls import path

from calendar_app.approvals import api, views

app_name = "approvals"

W = "w/<uuid:workspace_id>/"
_post = W + "posts/<uuid:post_id>/"
A = "api/v1/w/<uuid:workspace_id>/"
_api_post = A + "posts/<uuid:post_id>/"

urlpatterns = [
    path(W + "approvals/", views.queue, name="queue"),
    path(W + "approvals/links/<uuid:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path(W + "activity/", views.activity_log, name="activity"),
    path(_post + "submit/", views.post_submit, name="post_submit"),
    path(_post + "approve/", views.post_approve, name="post_approve"),
    path(_post + "request-changes/", views.post_request_changes, name="post_request_changes"),
    path(_post + "comments/", views.post_comment, name="post_comment"),
    path(_post + "versions/", views.post_versions, name="post_versions"),
    # REST API
    path(A + "approval-settings/", api.ApprovalSettingsApi.as_view(), name="api_settings"),
    path(A + "review-links/", api.ReviewLinkListApi.as_view(), name="api_review_links"),
    path(
        A + "review-links/<uuid:link_id>/",
        api.ReviewLinkDetailApi.as_view(),
        name="api_review_link",
    ),
    path(A + "activity/", api.ActivityListApi.as_view(), name="api_activity"),
    path(_api_post + "submit/", api.PostSubmitApi.as_view(), name="api_post_submit"),
    path(_api_post + "approve/", api.PostApproveApi.as_view(), name="api_post_approve"),
    path(
        _api_post + "request-changes/",
        api.PostRequestChangesApi.as_view(),
        name="api_post_request_changes",
    ),
    path(_api_post + "comments/", api.PostCommentListApi.as_view(), name="api_post_comments"),
    path(_api_post + "versions/", api.PostVersionListApi.as_view(), name="api_post_versions"),
]
