from django.urls import path, register_converter

from conversations import api, team_api, team_views, views

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
T = "api/v1/w/<uuid:workspace_id>/conversations/"

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
    # Team work
    path(W + "comments/<uuid:comment_id>/assign/", team_views.comment_assign, name="assign"),
    path(W + "comments/<uuid:comment_id>/label/", team_views.comment_label, name="label"),
    path(
        W + "comments/<uuid:comment_id>/sentiment/",
        team_views.comment_sentiment,
        name="sentiment",
    ),
    path(W + "comments/<uuid:comment_id>/notes/", team_views.note_add, name="note_add"),
    path(W + "notes/<uuid:note_id>/delete/", team_views.note_delete, name="note_delete"),
    path(W + "rule-runs/<uuid:run_id>/undo/", team_views.rule_run_undo, name="rule_run_undo"),
    path(W + "team/", team_views.team_settings, name="team"),
    path(W + "team/labels/", team_views.label_create, name="label_create"),
    path(W + "team/labels/<uuid:label_id>/delete/", team_views.label_delete, name="label_delete"),
    path(W + "team/saved-replies/", team_views.saved_reply_create, name="saved_reply_create"),
    path(
        W + "team/saved-replies/<uuid:saved_reply_id>/",
        team_views.saved_reply_edit,
        name="saved_reply_edit",
    ),
    path(W + "team/rules/new/", team_views.rule_new, name="rule_new"),
    path(W + "team/rules/<uuid:rule_id>/", team_views.rule_edit, name="rule_edit"),
    path(W + "response-times/", team_views.response_times, name="response_times"),
    path(W + "response-times.csv", team_views.response_times_csv, name="response_times_csv"),
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
    path(
        A + "<uuid:comment_id>/assign/",
        team_api.CommentAssignApi.as_view(),
        name="api_comment_assign",
    ),
    path(
        A + "<uuid:comment_id>/labels/",
        team_api.CommentLabelApi.as_view(),
        name="api_comment_label",
    ),
    path(
        A + "<uuid:comment_id>/sentiment/",
        team_api.CommentSentimentApi.as_view(),
        name="api_comment_sentiment",
    ),
    path(
        A + "<uuid:comment_id>/notes/", team_api.CommentNotesApi.as_view(), name="api_comment_notes"
    ),
    path(T + "labels/", team_api.LabelListApi.as_view(), name="api_labels"),
    path(T + "labels/<uuid:label_id>/", team_api.LabelDetailApi.as_view(), name="api_label"),
    path(T + "saved-replies/", team_api.SavedReplyListApi.as_view(), name="api_saved_replies"),
    path(
        T + "saved-replies/<uuid:saved_reply_id>/",
        team_api.SavedReplyDetailApi.as_view(),
        name="api_saved_reply",
    ),
    path(
        T + "saved-replies/<uuid:saved_reply_id>/render/",
        team_api.SavedReplyRenderApi.as_view(),
        name="api_saved_reply_render",
    ),
    path(T + "rules/", team_api.RuleListApi.as_view(), name="api_rules"),
    path(T + "rules/dry-run/", team_api.RuleDryRunApi.as_view(), name="api_rules_dry_run"),
    path(T + "rules/<uuid:rule_id>/", team_api.RuleDetailApi.as_view(), name="api_rule"),
    path(
        T + "rule-runs/<uuid:run_id>/undo/",
        team_api.RuleRunUndoApi.as_view(),
        name="api_rule_run_undo",
    ),
    path(T + "response-times/", team_api.ResponseTimesApi.as_view(), name="api_response_times"),
]
