from django.apps import AppConfig


class LaterConfig(AppConfig):
    name = "later"
    verbose_name = "Later for TikTok"

    def ready(self) -> None:
        from later.data_version import connect_signals

        connect_signals()
