"""Hashtag suggestions for the composer, from TikTok's `/business/hashtag/suggestion/`
(fact sheet §4.5), for accounts whose Business side is connected.

TikTok allows about 40 Business calls a minute per account and endpoint (Corrections), and a
composer asks on every pause in typing: answers are cached per account and keyword.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.cache import cache

from accounts.models import TikTokAccount
from accounts.tiktok import AccountNeedsReconnect, get_tiktok_client
from accounts.tiktok.access import tiktok_business_call
from later.errors import ExternalServiceError, ValidationFailed
from tiktok_client.errors import TikTokError, TikTokRateLimited

CACHE_SECONDS = 15 * 60
MAX_KEYWORD = 100


class HashtagsUnavailable(ExternalServiceError):
    code = "hashtag_suggestions_unavailable"
    status = 409


def _clean_keyword(keyword: str) -> str:
    cleaned = keyword.strip().lstrip("#").strip()
    if not cleaned or len(cleaned) > MAX_KEYWORD:
        raise ValidationFailed(
            f"Type 1 to {MAX_KEYWORD} characters after # to get suggestions.",
            code="invalid_keyword",
            details={"field": "keyword"},
        )
    return cleaned.lower()


def hashtag_suggestions(
    *, account: TikTokAccount, keyword: str, language: str = "en"
) -> list[dict[str, Any]]:
    """[{name, view_count}] most viewed first; raises HashtagsUnavailable for a personal
    account (no Business connection) or when TikTok refuses."""
    word = _clean_keyword(keyword)
    if not account.business_connected:
        raise HashtagsUnavailable(
            f"Hashtag suggestions come from the TikTok API for Business; {account} has no "
            "Business connection.",
            details={"account_id": str(account.id)},
        )
    key = f"hashtags:{account.pk}:{language}:{word}"
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    client = get_tiktok_client()
    try:
        found = tiktok_business_call(
            account=account,
            call=lambda t: client.business_hashtag_suggestions(
                access_token=t, business_id=account.business_id, keyword=word, language=language
            ),
        )
    except TikTokRateLimited as exc:
        raise HashtagsUnavailable(
            f"TikTok is busy; suggestions are back in {max(1, int(exc.retry_after))} s.",
            details={"account_id": str(account.id), "tiktok_code": exc.code},
        ) from exc
    except (TikTokError, AccountNeedsReconnect) as exc:
        words = exc.user_message if isinstance(exc, TikTokError) else exc.message
        raise HashtagsUnavailable(
            f"TikTok gave no suggestions: {words}",
            details={"account_id": str(account.id), "tiktok_code": exc.code},
        ) from exc
    suggestions = [asdict(s) for s in sorted(found, key=lambda s: -s.view_count) if s.name]
    cache.set(key, suggestions, CACHE_SECONDS)
    return suggestions
