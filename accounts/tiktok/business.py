"""The Connect button's second consent: the TikTok API for Business app (comments, insights).

Flow and reasons: docs/tiktok-connect.md. The Login Kit consent has already connected the
account for posting; this step links the Business token to it, only when the Business app saw
the same TikTok username (open_ids differ per app, and the browser may have switched TikTok
accounts between the two consents). Declining, a personal account or a mismatch never
disconnects the account: it stays connected for posting and Display analytics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.colors import color_far_from
from accounts.models import (
    AccountStatus,
    AccountType,
    BusinessStatus,
    TikTokAccount,
    User,
    Workspace,
)
from accounts.tiktok import signals
from accounts.tiktok.access import BUSINESS, apply_token_set, clear_tokens, get_tiktok_client
from accounts.tiktok.oauth_state import BUSINESS_FLOW, ConnectFailed, oauth_state_consume
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokError
from tiktok_client.schemas import BusinessAccount, TokenSet

logger = logging.getLogger(__name__)

#: Profile fields read at link time, each with the Business scope TikTok checks for it.
_LINK_FIELDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "user.account.type": ("is_business_account",),
    "user.info.username": ("username",),
    "user.info.profile": ("display_name", "profile_image"),
}

WHAT_BUSINESS_ADDS = (
    "A TikTok Business account connected through the Business permissions adds the comment "
    "inbox (read, reply, hide, like), daily account insights with audience, and per-video "
    "reach and watch time."
)


@dataclass(frozen=True)
class BusinessOutcome:
    account: TikTokAccount
    linked: bool
    #: One sentence for the user: what happened and, when not linked, what they can do.
    message: str


def _declined(account: TikTokAccount, reason: str) -> BusinessOutcome:
    with transaction.atomic():
        locked = TikTokAccount.objects.for_workspace(account.workspace_id).select_for_update()
        row = locked.get(pk=account.pk)
        # A declined re-consent leaves an earlier, still working Business link alone.
        if row.business_status != BusinessStatus.CONNECTED:
            row.business_status = BusinessStatus.DECLINED
            row.business_status_reason = reason[:500]
            clear_tokens(account=row, slot=BUSINESS)
            row.save()
    return BusinessOutcome(
        account=row,
        linked=False,
        message=f"{row} is connected for posting and video statistics. {reason}",
    )


#: A Business-only connect also reads the follower count the Login Kit profile would give.
_PROFILE_FIELDS_BY_SCOPE = {**_LINK_FIELDS_BY_SCOPE, "user.info.stats": ("followers_count",)}


def _link_profile(
    *,
    client: TikTokClient,
    tokens: TokenSet,
    fields_by_scope: dict[str, tuple[str, ...]] = _LINK_FIELDS_BY_SCOPE,
) -> BusinessAccount:
    granted = set(tokens.scopes)
    fields = [f for scope, fs in fields_by_scope.items() if scope in granted for f in fs]
    if not fields:
        return BusinessAccount()
    return client.business_get_account(
        access_token=tokens.access_token, business_id=tokens.open_id, fields=fields
    )


def _revoke(client: TikTokClient, tokens: TokenSet) -> None:
    try:
        client.business_revoke_token(access_token=tokens.access_token)
    except TikTokError as exc:
        logger.warning("tiktok business revoke failed: %s (log_id=%s)", exc.code, exc.log_id)


def _apply_business_link(
    account: TikTokAccount, *, tokens: TokenSet, profile: BusinessAccount
) -> None:
    """Put a granted Business link on the row (unsaved): its tokens, scopes, business_id,
    status, and the account type TikTok reported."""
    apply_token_set(account=account, tokens=tokens, slot=BUSINESS)
    account.business_scopes = sorted(set(tokens.scopes))
    account.business_id = tokens.open_id
    account.business_status = BusinessStatus.CONNECTED
    account.business_status_reason = ""
    # New or re-granted permissions (comments among them): the comment sync is due at once.
    account.comments_due_at = timezone.now()
    if profile.is_business_account is not None:
        account.account_type = (
            AccountType.BUSINESS if profile.is_business_account else AccountType.PERSONAL
        )


def _mismatch(account: TikTokAccount, profile: BusinessAccount) -> str:
    if not profile.username:
        return (
            "TikTok did not share the username with the Business permissions, so they could "
            "not be matched to this account. Reconnect and keep the username permission ticked."
        )
    if account.username and profile.username.lower() != account.username.lower():
        return (
            f"The Business permissions were granted by @{profile.username}, not {account}. "
            f"Sign in to TikTok as {account} and reconnect to add comments and insights."
        )
    return ""


@transaction.atomic
def _store_link(
    *, account: TikTokAccount, tokens: TokenSet, profile: BusinessAccount
) -> TikTokAccount:
    rows = TikTokAccount.objects.for_workspace(account.workspace_id)
    # Another row of this workspace holding the same Business open_id is a stale link. When
    # that row was connected through the Business app only (its username has changed since,
    # so the Login Kit consent did not find it), it is the same TikTok user: it is retired,
    # its history kept, rather than left looking connected with no token.
    stale = rows.filter(business_id=tokens.open_id).exclude(pk=account.pk)
    for retired in stale.filter(open_id="").select_for_update():
        retired.status = AccountStatus.DISCONNECTED
        retired.status_reason = f"Connected again as {account} (the same TikTok user)."
        retired.business_status = BusinessStatus.NONE
        clear_tokens(account=retired, slot=BUSINESS)
        retired.business_id = ""
        retired.save()
        signals.account_disconnected.send(sender=TikTokAccount, account=retired)
    stale.update(business_id="")
    row = rows.select_for_update().get(pk=account.pk)
    _apply_business_link(row, tokens=tokens, profile=profile)
    row.display_name = row.display_name or profile.display_name or ""
    row.avatar_url = row.avatar_url or profile.profile_image or ""
    row.save()
    return row


def _linked_message(account: TikTokAccount) -> str:
    if account.account_type == AccountType.BUSINESS:
        return f"{account} is connected, with comments and insights."
    if not account.account_type_reported:
        return (
            f"{account} is connected. TikTok did not say whether it is a Business account "
            "(the account type permission was not granted); reconnect and keep it ticked."
        )
    return (
        f"{account} is connected for posting and video statistics. It is a personal TikTok "
        f"account. {WHAT_BUSINESS_ADDS} Switch it to a Business account in the TikTok app, then "
        "reconnect."
    )


def tiktok_business_connect_complete(
    *, user: User, session_key: str, state: str, code: str = "", error: str = ""
) -> BusinessOutcome:
    """Finish the Business consent's callback (`code`, or `auth_code` as some integrations see).

    Raises ConnectFailed only for an invalid link; every TikTok answer ends in an outcome.
    """
    consumed = oauth_state_consume(
        state=state, user=user, session_key=session_key, flow=BUSINESS_FLOW
    )
    account = consumed.account
    if account is None:
        # Started by Connect on an installation with only the Business app configured.
        return _connect_business_only(
            workspace=consumed.workspace, user=user, code=code, error=error
        )
    if error:
        return _declined(
            account,
            "The Business permissions were not granted, so comments and insights stay off. "
            "Reconnect any time to add them.",
        )
    if not code:
        return _declined(account, "TikTok sent no Business authorization code. Reconnect to retry.")
    client = get_tiktok_client()
    try:
        tokens = client.business_exchange_code(auth_code=code)
    except TikTokError as exc:
        return _declined(
            account, f"TikTok did not complete the Business connection: {exc.user_message}"
        )
    try:
        profile = _link_profile(client=client, tokens=tokens)
    except TikTokError as exc:
        _revoke(client, tokens)
        return _declined(
            account, f"TikTok would not share the Business profile: {exc.user_message}"
        )
    problem = _mismatch(account, profile)
    if problem:
        _revoke(client, tokens)
        return _declined(account, problem)
    linked = _store_link(account=account, tokens=tokens, profile=profile)
    return BusinessOutcome(account=linked, linked=True, message=_linked_message(linked))


# --- Business app only: the Business consent is the whole connection -------------------------


def _connect_business_only(
    *, workspace: Workspace, user: User, code: str, error: str
) -> BusinessOutcome:
    """Exchange the code, read `/business/get/`, and store the account with only its Business
    link. Raises ConnectFailed (nothing stored, nothing kept at TikTok) when that fails."""
    if error:
        raise ConnectFailed(
            "The TikTok permissions were not granted, so nothing was connected.",
            workspace_id=workspace.pk,
        )
    if not code:
        raise ConnectFailed(
            "TikTok sent no authorization code. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    client = get_tiktok_client()
    try:
        tokens = client.business_exchange_code(auth_code=code)
    except TikTokError as exc:
        raise ConnectFailed(exc.user_message, workspace_id=workspace.pk) from exc
    if not tokens.access_token or not tokens.open_id:
        raise ConnectFailed(
            "TikTok's answer was incomplete. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    try:
        profile = _link_profile(
            client=client, tokens=tokens, fields_by_scope=_PROFILE_FIELDS_BY_SCOPE
        )
    except TikTokError as exc:
        _revoke(client, tokens)
        raise ConnectFailed(
            f"TikTok would not share the account's profile: {exc.user_message}",
            workspace_id=workspace.pk,
        ) from exc
    account, created = _store_business_only(
        workspace=workspace, user=user, tokens=tokens, profile=profile
    )
    if account is None:
        _revoke(client, tokens)
        raise ConnectFailed(
            "TikTok did not share the account's username, which identifies the account when "
            "it is connected again. Start again and keep the username permission ticked.",
            workspace_id=workspace.pk,
        )
    verb = "connected" if created else "reconnected"
    return BusinessOutcome(
        account=account,
        linked=True,
        message=f"TikTok account {account} {verb} through the TikTok API for Business. "
        + _linked_message(account),
    )


@transaction.atomic
def _store_business_only(
    *, workspace: Workspace, user: User, tokens: TokenSet, profile: BusinessAccount
) -> tuple[TikTokAccount | None, bool]:
    """The account this Business token belongs to, updated or created; (None, False) when it
    cannot be identified. The Business open_id is stable for this app; the username is the one
    key shared with the Login Kit app (docs/tiktok-connect.md, "Identity")."""
    rows = TikTokAccount.objects.for_workspace(workspace).select_for_update()
    account = rows.filter(business_id=tokens.open_id).first()
    if account is None and profile.username:
        account = rows.filter(username__iexact=profile.username).first()
    created = account is None
    if account is None:
        if not profile.username:
            return None, False
        used = TikTokAccount.objects.for_workspace(workspace).values_list("color", flat=True)
        account = TikTokAccount(workspace=workspace, open_id="", color=color_far_from(used))
    previous_label = str(account)
    was_connected = not created and account.status == AccountStatus.CONNECTED
    _apply_business_link(account, tokens=tokens, profile=profile)
    # The Business profile is the account's current one (usernames can change in TikTok).
    account.username = profile.username or account.username
    account.display_name = profile.display_name or account.display_name or account.username
    account.avatar_url = profile.profile_image or account.avatar_url
    if profile.followers_count is not None:
        account.follower_count = profile.followers_count
    # The account is usable through this link unless a Login Kit link holds its state.
    if not account.login_kit_linked or not account.access_token_encrypted:
        account.status = AccountStatus.CONNECTED
        account.status_reason = ""
        account.connected_by = user
    account.save()
    if not created and not was_connected and account.status == AccountStatus.CONNECTED:
        signals.account_reconnected.send(
            sender=TikTokAccount, account=account, previous_label=previous_label
        )
    return account, created
