"""The TikTok calls the pipeline makes, always through the account's fresh token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from accounts.models import TikTokAccount
from calendar_app.models import Post, PublishApi
from tiktok_client.client import TikTokClient
from tiktok_client.schemas import PublishStatus

T = TypeVar("T")


def tiktok() -> TikTokClient:
    from accounts.tiktok import get_tiktok_client

    return get_tiktok_client()


def account_call(account: TikTokAccount, call: Callable[[str], T]) -> T:
    from accounts.tiktok import tiktok_account_call

    return tiktok_account_call(account=account, call=call)


def business_call(account: TikTokAccount, call: Callable[[str], T]) -> T:
    """A TikTok API for Business call with the account's Business token (and business_id)."""
    from accounts.tiktok.access import tiktok_business_call

    return tiktok_business_call(account=account, call=call)


def fetch_publish_status(post: Post) -> PublishStatus:
    """The post's status from the API that carries it (Business: ``/business/publish/status/``,
    whose ``post_ids`` and ``reason`` read as Content Posting's fields)."""
    client = tiktok()
    if post.publish_api == PublishApi.BUSINESS:
        business_id = post.account.business_id
        status = business_call(
            post.account,
            lambda token: client.business_publish_status(
                access_token=token, business_id=business_id, publish_id=post.publish_id
            ),
        )
        return status.as_publish_status()
    return account_call(
        post.account,
        lambda token: client.fetch_publish_status(access_token=token, publish_id=post.publish_id),
    )
