"""Re-encrypt every stored TikTok token under the newest TOKEN_ENCRYPTION_KEYS entry.

Rotation: put the new key first in TOKEN_ENCRYPTION_KEYS (keep the old one after it), deploy,
run this command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import TokenDecryptionError, reencrypt_token
from accounts.models import TikTokAccount, TikTokOAuthState

BATCH = 200
#: Both apps' tokens: Login Kit and TikTok API for Business.
TOKEN_FIELDS = (
    "access_token_encrypted",
    "refresh_token_encrypted",
    "business_access_token_encrypted",
    "business_refresh_token_encrypted",
)


class Command(BaseCommand):
    help = "Re-encrypt all TikTok tokens under the newest key in TOKEN_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        failed: list[str] = []
        rotated = 0
        # Crossing every workspace is the point of a key rotation.
        ids = list(TikTokAccount.objects.unscoped().order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                batch = (
                    TikTokAccount.objects.unscoped()
                    .select_for_update()
                    .filter(pk__in=ids[start : start + BATCH])
                )
                for account in batch:
                    try:
                        for field in TOKEN_FIELDS:
                            setattr(account, field, reencrypt_token(getattr(account, field)))
                    except TokenDecryptionError:
                        failed.append(str(account.pk))
                        continue
                    account.save(update_fields=list(TOKEN_FIELDS))
                    rotated += 1
        with transaction.atomic():
            for state in TikTokOAuthState.objects.unscoped().select_for_update():
                try:
                    state.code_verifier_encrypted = reencrypt_token(state.code_verifier_encrypted)
                except TokenDecryptionError:
                    state.delete()  # a pending connection attempt; the user can simply retry
                    continue
                state.save(update_fields=["code_verifier_encrypted"])
        self.stdout.write(f"Re-encrypted the tokens of {rotated} TikTok account(s).")
        if failed:
            raise CommandError(
                f"{len(failed)} account(s) have tokens no configured key can read "
                f"(ids: {', '.join(failed)}); keep the old key listed or reconnect them."
            )
