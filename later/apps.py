from django.apps import AppConfig


class LaterConfig(AppConfig):
    name = "later"
    verbose_name = "Later for TikTok"
