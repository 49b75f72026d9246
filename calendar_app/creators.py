"""creator_info, fetched live for the composer and for server-side validation (fact sheet 2.10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from later.errors import ExternalServiceError
from tiktok_client.errors import TikTokError, TikTokRateLimited
from tiktok_client.schemas import CreatorInfo

if TYPE_CHECKING:
    from accounts.models import TikTokAccount


class CreatorCannotPost(ExternalServiceError):
    code = "creator_cannot_post"
    status = 409


def creator_info_fetch(*, account: TikTokAccount) -> CreatorInfo:
    """Live creator_info for `account`.

    TikTok answers with an error instead of info when the creator may not post right now
    (banned, too many posts); the UI must stop and ask the user to try again later.
    Raises AccountNeedsReconnect when the connection is dead.
    """
    from accounts.tiktok import get_tiktok_client, tiktok_account_call

    client = get_tiktok_client()
    try:
        return tiktok_account_call(
            account=account, call=lambda token: client.query_creator_info(access_token=token)
        )
    except TikTokRateLimited as exc:
        raise CreatorCannotPost(
            f"TikTok is busy for {account}; try again in {max(1, int(exc.retry_after or 60))} s.",
            details={"account_id": str(account.id), "tiktok_code": exc.code},
        ) from exc
    except TikTokError as exc:
        raise CreatorCannotPost(
            f"TikTok says {account} can't post right now: {exc.user_message} "
            "Please try again later.",
            details={"account_id": str(account.id), "tiktok_code": exc.code},
        ) from exc
