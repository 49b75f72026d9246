"""The TikTok calls the pipeline makes, always through the account's fresh token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from accounts.models import TikTokAccount
from calendar_app.models import Post
from tiktok_client.client import TikTokClient
from tiktok_client.schemas import PublishStatus

T = TypeVar("T")


def tiktok() -> TikTokClient:
    from accounts.tiktok import get_tiktok_client

    return get_tiktok_client()


def account_call(account: TikTokAccount, call: Callable[[str], T]) -> T:
    from accounts.tiktok import tiktok_account_call

    return tiktok_account_call(account=account, call=call)


def fetch_publish_status(post: Post) -> PublishStatus:
    client = tiktok()
    return account_call(
        post.account,
        lambda token: client.fetch_publish_status(access_token=token, publish_id=post.publish_id),
    )
