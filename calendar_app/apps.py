from django.apps import AppConfig


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = "Calendar, media and publishing"

    def ready(self) -> None:
        from calendar_app import receivers  # noqa: F401 - connects the TikTok account receivers
        from calendar_app.approvals import receivers as approval_receivers  # noqa: F401
