from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts, workspaces and TikTok connections"

    def ready(self) -> None:
        from accounts import (
            checks,  # noqa: F401 - deploy checks of the TikTok settings
            invitations,  # noqa: F401 - accepts invitations after sign-up
            receivers,  # noqa: F401 - last workspace; clients of a deleted agency
        )
