from django.urls import path

from analytics import api, views

app_name = "analytics"

urlpatterns = [
    path("w/<uuid:workspace_id>/analytics/", views.overview, name="overview"),
    path("w/<uuid:workspace_id>/analytics/videos/<uuid:video_id>/", views.video, name="video"),
    path("w/<uuid:workspace_id>/analytics/best-times/", views.best_times, name="best_times"),
    path("w/<uuid:workspace_id>/analytics/report/", views.report, name="report"),
    path(
        "w/<uuid:workspace_id>/analytics/report.pdf", views.report_pdf_download, name="report_pdf"
    ),
    path(
        "w/<uuid:workspace_id>/analytics/report-settings/",
        views.report_settings,
        name="report_settings",
    ),
    path(
        "w/<uuid:workspace_id>/analytics/report-settings/schedules/<uuid:schedule_id>/delete/",
        views.report_schedule_delete,
        name="report_schedule_delete",
    ),
    path(
        "w/<uuid:workspace_id>/analytics/export/account.csv",
        views.export_account,
        name="export_account",
    ),
    path(
        "w/<uuid:workspace_id>/analytics/export/posts.csv",
        views.export_posts,
        name="export_posts",
    ),
    path(
        "api/v1/w/<uuid:workspace_id>/analytics/overview/",
        api.OverviewAPI.as_view(),
        name="api_overview",
    ),
    path(
        "api/v1/w/<uuid:workspace_id>/analytics/best-times/",
        api.BestTimesAPI.as_view(),
        name="api_best_times",
    ),
    path(
        "api/v1/w/<uuid:workspace_id>/analytics/videos/",
        api.VideoListAPI.as_view(),
        name="api_videos",
    ),
    path(
        "api/v1/w/<uuid:workspace_id>/analytics/videos/<uuid:video_id>/",
        api.VideoDetailAPI.as_view(),
        name="api_video",
    ),
]
