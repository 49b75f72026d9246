from django.urls import path

from calendar_app import agency_views, api, planner_api, planner_views, public_media, views

app_name = "calendar_app"

W = "w/<uuid:workspace_id>/"
A = "api/v1/w/<uuid:workspace_id>/"

urlpatterns = [
    # Signed, expiring links TikTok pulls photos (and videos, when configured) from.
    path(
        public_media.ROUTE_PREFIX + "<str:token>/<str:name>",
        public_media.public_media,
        name="public_media",
    ),
    path(W + "calendar/", views.calendar, name="calendar"),
    path(W + "checklist/dismiss/", views.checklist_dismiss, name="checklist_dismiss"),
    path(
        "agencies/<uuid:agency_id>/calendar/",
        agency_views.agency_calendar,
        name="agency_calendar",
    ),
    path(W + "calendar/slots/", planner_views.posting_slots, name="posting_slots"),
    path(W + "posts/<uuid:post_id>/queue/", planner_views.post_queue, name="post_queue"),
    path(W + "calendar/library/", planner_views.caption_library, name="caption_library"),
    path(
        W + "calendar/library/templates/<uuid:template_id>/delete/",
        planner_views.caption_template_delete,
        name="caption_template_delete",
    ),
    path(
        W + "calendar/library/hashtags/<uuid:hashtag_group_id>/delete/",
        planner_views.hashtag_group_delete,
        name="hashtag_group_delete",
    ),
    path(W + "calendar/import/", planner_views.import_start, name="import_start"),
    path(
        W + "calendar/import/<uuid:import_id>/",
        planner_views.import_detail,
        name="import_detail",
    ),
    path(W + "calendar/notes/", views.note_create, name="note_create"),
    path(W + "calendar/notes/<uuid:note_id>/delete/", views.note_delete, name="note_delete"),
    path(W + "media/", views.media, name="media"),
    path(W + "media/<uuid:media_id>/delete/", views.media_delete, name="media_delete"),
    path(W + "media/<uuid:media_id>/file/", views.media_file, name="media_file"),
    path(W + "media/<uuid:media_id>/thumbnail/", views.media_thumbnail, name="media_thumbnail"),
    path(W + "posts/new/", views.post_create, name="post_create"),
    path(W + "posts/creator-panel/<uuid:account_id>/", views.creator_panel, name="creator_panel"),
    path(W + "posts/<uuid:post_id>/", views.post_detail, name="post_detail"),
    path(W + "posts/<uuid:post_id>/edit/", views.post_edit, name="post_edit"),
    path(W + "posts/<uuid:post_id>/delete/", views.post_delete, name="post_delete"),
    path(W + "posts/<uuid:post_id>/reschedule/", views.post_reschedule, name="post_reschedule"),
    # REST API
    path(A + "posts/", api.PostListApi.as_view(), name="api_posts"),
    path(A + "posts/<uuid:post_id>/", api.PostDetailApi.as_view(), name="api_post"),
    path(
        A + "posts/<uuid:post_id>/reschedule/",
        api.PostRescheduleApi.as_view(),
        name="api_post_reschedule",
    ),
    path(A + "calendar-notes/", planner_api.NoteListApi.as_view(), name="api_notes"),
    path(
        A + "calendar-notes/<uuid:note_id>/",
        planner_api.NoteDetailApi.as_view(),
        name="api_note",
    ),
    path(A + "posts/queue/", planner_api.PostQueueCreateApi.as_view(), name="api_posts_queue"),
    path(A + "posts/bulk-drafts/", planner_api.BulkDraftsApi.as_view(), name="api_bulk_drafts"),
    path(A + "post-imports/", planner_api.PostImportListApi.as_view(), name="api_post_imports"),
    path(
        A + "post-imports/<uuid:import_id>/",
        planner_api.PostImportDetailApi.as_view(),
        name="api_post_import",
    ),
    path(
        A + "post-imports/<uuid:import_id>/confirm/",
        planner_api.PostImportConfirmApi.as_view(),
        name="api_post_import_confirm",
    ),
    path(
        A + "caption-templates/",
        planner_api.CaptionTemplateListApi.as_view(),
        name="api_caption_templates",
    ),
    path(
        A + "caption-templates/<uuid:template_id>/",
        planner_api.CaptionTemplateDetailApi.as_view(),
        name="api_caption_template",
    ),
    path(
        A + "hashtag-groups/", planner_api.HashtagGroupListApi.as_view(), name="api_hashtag_groups"
    ),
    path(
        A + "hashtag-groups/<uuid:hashtag_group_id>/",
        planner_api.HashtagGroupDetailApi.as_view(),
        name="api_hashtag_group",
    ),
    path(
        A + "posts/<uuid:post_id>/queue/",
        planner_api.PostQueueApi.as_view(),
        name="api_post_queue",
    ),
    path(
        A + "tiktok-accounts/<uuid:account_id>/posting-slots/",
        planner_api.PostingSlotsApi.as_view(),
        name="api_posting_slots",
    ),
    path(A + "media/", api.MediaListApi.as_view(), name="api_media"),
    path(A + "media/<uuid:media_id>/", api.MediaDetailApi.as_view(), name="api_media_detail"),
    path(
        A + "tiktok-accounts/<uuid:account_id>/creator-info/",
        api.CreatorInfoApi.as_view(),
        name="api_creator_info",
    ),
    path(
        A + "tiktok-accounts/<uuid:account_id>/hashtag-suggestions/",
        api.HashtagSuggestionsApi.as_view(),
        name="api_hashtag_suggestions",
    ),
]
