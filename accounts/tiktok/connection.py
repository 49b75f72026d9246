"""The Connect button's OAuth flow, the connected account's profile, and disconnect."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction

from accounts.colors import color_clean, color_far_from
from accounts.crypto import decrypt_token
from accounts.models import (
    AccountStatus,
    BusinessStatus,
    Membership,
    Role,
    TikTokAccount,
    User,
    Workspace,
)
from accounts.tiktok import signals
from accounts.tiktok.access import (
    BUSINESS,
    LOGIN_KIT,
    apply_token_set,
    clear_tokens,
    get_tiktok_client,
)
from accounts.tiktok.oauth_state import (
    BUSINESS_FLOW,
    LOGIN_KIT_FLOW,
    ConnectFailed,
    oauth_state_consume,
    oauth_state_create,
)
from later.errors import NotFound, RoleRequired, ValidationFailed
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokAuthError, TikTokError, TikTokOAuthError
from tiktok_client.pkce import pkce_pair
from tiktok_client.schemas import TokenSet, UserInfo

logger = logging.getLogger(__name__)


# --- Connect flow: Login Kit consent first (OAuth 2.0 + PKCE) -------------------------------

_USER_FIELDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "user.info.basic": ("open_id", "union_id", "avatar_url", "display_name"),
    "user.info.profile": ("username", "is_verified"),
    "user.info.stats": ("follower_count",),
}


@dataclass(frozen=True)
class ConnectOutcome:
    account: TikTokAccount
    created: bool
    #: Where the browser goes next: TikTok's Business consent when a Business app is configured.
    business_authorize_url: str = ""


NO_APP_CONFIGURED = (
    "No TikTok app is configured, so accounts cannot be connected yet. An administrator sets "
    "up the Login Kit app (TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET), the TikTok API for "
    "Business app (TIKTOK_BUSINESS_APP_ID, TIKTOK_BUSINESS_APP_SECRET, "
    "TIKTOK_BUSINESS_REDIRECT_URI), or both; the README says how to register each."
)


def tiktok_connect_start(*, workspace: Workspace, membership: Membership, session_key: str) -> str:
    """Record a single-use state for this user+session+workspace; return TikTok's authorize URL."""
    if not membership.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can connect TikTok accounts.")
    if not session_key:
        raise ValidationFailed("Your browser session is missing; reload the page and try again.")
    client = get_tiktok_client()
    if not client.config.login_kit_configured:
        if client.config.business_configured:
            # Business-only installation: straight to the Business consent. Its token exchange
            # takes no code_verifier (fact sheet, Corrections "Two apps"), so no PKCE here.
            state = oauth_state_create(
                workspace=workspace,
                user=membership.user,
                session_key=session_key,
                flow=BUSINESS_FLOW,
            )
            return client.business_authorize_url(state=state)
        raise ValidationFailed(NO_APP_CONFIGURED, code="tiktok_not_configured")
    verifier, challenge = pkce_pair()
    state = oauth_state_create(
        workspace=workspace,
        user=membership.user,
        session_key=session_key,
        flow=LOGIN_KIT_FLOW,
        code_verifier=verifier,
    )
    return client.authorize_url(state=state, code_challenge=challenge)


@dataclass(frozen=True)
class ConnectedProfile:
    open_id: str
    union_id: str = ""
    username: str = ""
    display_name: str = ""
    avatar_url: str = ""
    follower_count: int | None = None
    is_private: bool = False

    def filled_from(self, *, username: str, display_name: str, avatar_url: str) -> ConnectedProfile:
        """This profile with its blanks filled from another source (the first source wins)."""
        return replace(
            self,
            username=self.username or username,
            display_name=self.display_name or display_name,
            avatar_url=self.avatar_url or avatar_url,
        )


def _display_profile(*, client: TikTokClient, tokens: TokenSet) -> ConnectedProfile:
    """`/v2/user/info/`, asking only for fields the granted scopes allow (else TikTok refuses)."""
    granted = set(tokens.scopes)
    fields = [f for scope, fs in _USER_FIELDS_BY_SCOPE.items() if scope in granted for f in fs]
    info = (
        client.get_user_info(access_token=tokens.access_token, fields=fields)
        if fields
        else UserInfo()
    )
    return ConnectedProfile(
        open_id=tokens.open_id,
        union_id=info.union_id or "",
        username=info.username or "",
        display_name=info.display_name or "",
        avatar_url=info.avatar_url or "",
        follower_count=info.follower_count,
    )


def _with_creator_info(
    profile: ConnectedProfile, *, client: TikTokClient, tokens: TokenSet
) -> ConnectedProfile:
    """creator_info tells whether the account is private (its privacy options) and fills blanks."""
    if "video.publish" not in tokens.scopes:
        return profile
    try:
        creator = client.query_creator_info(access_token=tokens.access_token)
    except TikTokAuthError:
        raise
    except TikTokError:
        return profile  # a creator who cannot post right now still connects; posting re-checks
    return replace(
        profile.filled_from(
            username=creator.username, display_name=creator.nickname, avatar_url=creator.avatar_url
        ),
        is_private="FOLLOWER_OF_CREATOR" in creator.privacy_level_options,
    )


def _fetch_profile(*, client: TikTokClient, tokens: TokenSet) -> ConnectedProfile:
    """What TikTok tells us about the account, asking only for what the granted scopes allow."""
    profile = _display_profile(client=client, tokens=tokens)
    profile = _with_creator_info(profile, client=client, tokens=tokens)
    return replace(profile, display_name=profile.display_name or profile.username)


@transaction.atomic
def _upsert_account(
    *, workspace: Workspace, user: User, tokens: TokenSet, profile: ConnectedProfile
) -> tuple[TikTokAccount, bool]:
    rows = TikTokAccount.objects.for_workspace(workspace).select_for_update()
    account = rows.filter(open_id=tokens.open_id).first()
    if account is None and profile.username:
        # Connected earlier through the Business app only: open_ids differ per app, so the
        # username is the one key both apps return (docs/tiktok-connect.md, "Identity").
        account = rows.filter(open_id="", username__iexact=profile.username).first()
    created = account is None
    if account is None:
        used = TikTokAccount.objects.for_workspace(workspace).values_list("color", flat=True)
        account = TikTokAccount(
            workspace=workspace,
            open_id=tokens.open_id,
            color=color_far_from(used),
        )
    previous_label = str(account)
    account.open_id = tokens.open_id
    # A reconnect granting fewer scopes must not blank what we already know.
    account.union_id = profile.union_id or account.union_id
    account.username = profile.username or account.username
    account.display_name = profile.display_name or account.display_name
    account.avatar_url = profile.avatar_url or account.avatar_url
    if profile.follower_count is not None:
        account.follower_count = profile.follower_count
    # The account type is only known from the Business app (accounts.tiktok.business).
    account.is_private = profile.is_private
    apply_token_set(account=account, tokens=tokens)
    account.scopes = sorted(set(tokens.scopes))
    account.status = AccountStatus.CONNECTED
    account.status_reason = ""
    account.connected_by = user
    account.save()
    if not created:
        signals.account_reconnected.send(
            sender=TikTokAccount, account=account, previous_label=previous_label
        )
    return account, created


def _revoke_quietly(*, client: TikTokClient, access_token: str, business: bool = False) -> bool:
    """Revoke at TikTok (`/v2/oauth/revoke/` or `/tt_user/oauth2/revoke/`); False if refused."""
    try:
        if business:
            client.business_revoke_token(access_token=access_token)
        else:
            client.revoke_token(access_token=access_token)
    except TikTokError as exc:
        logger.warning("tiktok revoke failed: %s (log_id=%s)", exc.code, exc.log_id)
        return False
    return True


def tiktok_connect_complete(
    *,
    user: User,
    session_key: str,
    state: str,
    code: str = "",
    error: str = "",
) -> ConnectOutcome:
    """Finish the Login Kit callback. Raises ConnectFailed with nothing stored.

    When a Business app is configured, the outcome carries the Business consent URL to send
    the browser to next (one Connect button, at most one more consent screen).
    """
    consumed = oauth_state_consume(
        state=state, user=user, session_key=session_key, flow=LOGIN_KIT_FLOW
    )
    workspace = consumed.workspace
    if error:
        message = TikTokOAuthError.user_messages_by_code.get(
            error, "TikTok did not complete the connection. Nothing was connected."
        )
        raise ConnectFailed(message, workspace_id=workspace.pk)
    if not code:
        raise ConnectFailed(
            "TikTok sent no authorization code. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    client = get_tiktok_client()
    try:
        tokens = client.exchange_code(code=code, code_verifier=consumed.code_verifier)
    except TikTokError as exc:
        raise ConnectFailed(exc.user_message, workspace_id=workspace.pk) from exc
    if not tokens.access_token or not tokens.open_id:
        raise ConnectFailed(
            "TikTok's answer was incomplete. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    try:
        profile = _fetch_profile(client=client, tokens=tokens)
    except TikTokError as exc:
        _revoke_quietly(client=client, access_token=tokens.access_token)
        raise ConnectFailed(
            "TikTok connected but would not share the account's profile. "
            "Start again and keep the profile permission ticked.",
            workspace_id=workspace.pk,
        ) from exc
    account, created = _upsert_account(
        workspace=workspace, user=user, tokens=tokens, profile=profile
    )
    business_url = ""
    if client.config.business_configured:
        business_state = oauth_state_create(
            workspace=workspace,
            user=user,
            session_key=session_key,
            flow=BUSINESS_FLOW,
            account=account,
        )
        business_url = client.business_authorize_url(state=business_state)
    return ConnectOutcome(account=account, created=created, business_authorize_url=business_url)


# --- Disconnect ---------------------------------------------------------------------------------


def tiktok_account_get(*, workspace: Workspace, account_id: Any) -> TikTokAccount:
    try:
        return TikTokAccount.objects.for_workspace(workspace).get(pk=account_id)
    except (TikTokAccount.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("TikTok account not found.") from exc


def tiktok_account_disconnect(
    *, workspace: Workspace, membership: Membership, account: TikTokAccount
) -> bool:
    """Revoke at TikTok (best effort) and delete our tokens; the row stays for history.

    Returns whether TikTok confirmed the revocation.
    """
    if not membership.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can disconnect TikTok accounts.")
    client = get_tiktok_client()
    revoked = True
    login_kit_token = decrypt_token(account.access_token_encrypted)
    if login_kit_token:
        revoked = _revoke_quietly(client=client, access_token=login_kit_token)
    business_token = decrypt_token(account.business_access_token_encrypted)
    if business_token:
        revoked = (
            _revoke_quietly(client=client, access_token=business_token, business=True) and revoked
        )
    with transaction.atomic():
        try:
            locked = (
                TikTokAccount.objects.for_workspace(workspace)
                .select_for_update()
                .get(pk=account.pk)
            )
        except TikTokAccount.DoesNotExist as exc:
            raise NotFound("TikTok account not found.") from exc
        locked.status = AccountStatus.DISCONNECTED
        locked.status_reason = (
            "Disconnected by a workspace member."
            if revoked
            else "Disconnected here, but TikTok did not confirm the revocation."
        )
        clear_tokens(account=locked, slot=LOGIN_KIT)
        clear_tokens(account=locked, slot=BUSINESS)
        locked.business_status = BusinessStatus.NONE
        locked.business_status_reason = ""
        locked.save()
        signals.account_disconnected.send(sender=TikTokAccount, account=locked)
    return revoked


@transaction.atomic
def tiktok_account_set_color(*, account: TikTokAccount, color: str) -> TikTokAccount:
    """The account's calendar colour, chosen by a member."""
    account.color = color_clean(color)
    account.save(update_fields=["color", "updated_at"])
    return account
