"""calendar_app's reactions to TikTok connection changes (signals sent by accounts.tiktok)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import TikTokAccount
from accounts.tiktok import signals
from calendar_app.models import Post
from calendar_app.publishing.state import post_adopt_publish_id, posts_resume_polling


def _must_reconnect(label: str) -> str:
    return f"The TikTok account {label} must be reconnected before this post can be published."


def _scheduled(account: TikTokAccount) -> QuerySet[Post]:
    return Post.objects.for_workspace(account.workspace_id).filter(
        account=account, status="scheduled"
    )


@receiver(signals.account_needs_reconnect)
def flag_posts_of_account_needing_reconnect(*, account: TikTokAccount, **_: Any) -> None:
    _scheduled(account).update(
        needs_attention=_must_reconnect(str(account)), updated_at=timezone.now()
    )


@receiver(signals.account_reconnected)
def clear_reconnect_flags(*, account: TikTokAccount, previous_label: str = "", **_: Any) -> None:
    flagged = {_must_reconnect(str(account))}
    if previous_label:
        flagged.add(_must_reconnect(previous_label))
    _scheduled(account).filter(needs_attention__in=flagged).update(
        needs_attention="", updated_at=timezone.now()
    )


@receiver(signals.account_disconnected)
def flag_posts_of_disconnected_account(*, account: TikTokAccount, **_: Any) -> None:
    _scheduled(account).update(
        needs_attention=(
            f"The TikTok account {account} was disconnected; reconnect it or choose "
            "another account."
        ),
        updated_at=timezone.now(),
    )


@receiver(signals.account_reconnected)
def resume_polling_after_reconnect(*, account: TikTokAccount, **_: Any) -> None:
    """Posts that went unconfirmed because the token was refused mid-publish have a known
    publish_id: TikTok can be asked about them again now."""
    posts_resume_polling(account_id=account.pk)


@receiver(signals.publish_event)
def poll_post_now(*, open_id: str, publish_id: str, **_: Any) -> None:
    """A `post.publish.*` webhook: make the pipeline ask TikTok now instead of at the next
    poll. TikTok's status answer, not the webhook, settles the post, so a repeated or
    out-of-order delivery changes nothing twice."""
    # Webhooks name a TikTok user, not a workspace; the publish id and creator pick the post.
    Post.objects.unscoped().filter(
        publish_id=publish_id, account__open_id=open_id, status__in=["publishing", "published"]
    ).filter(
        Q(status="publishing", claim_token__isnull=True) | Q(status="published", tiktok_post_id="")
    ).update(next_attempt_at=timezone.now())
    # An unconfirmed post whose publish_id TikTok now names is known to TikTok: poll it again.
    account_ids = list(
        TikTokAccount.objects.unscoped().filter(open_id=open_id).values_list("pk", flat=True)
    )
    for account_id in account_ids:
        posts_resume_polling(account_id=account_id, publish_id=publish_id)
    # A publish_id no post holds: the lost answer of one of our inits, when only one was lost.
    post_adopt_publish_id(account_ids=account_ids, publish_id=publish_id)
