"""Every page at 390, 768 and 1440 px: nothing scrolls sideways and axe-core finds no serious or
critical violation, empty and full, with errors shown and with menus and dialogs open.
Screenshots land in var/screenshots/<width>/ for a person to look at."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.a11y.conftest import WIDTHS, Findings, FullWorkspace, check_page
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def full_pages(full: FullWorkspace) -> list[tuple[str, str]]:
    ws = full.workspace.id
    video = full.seeded["video"]
    comment = full.seeded["comment"]
    post = full.seeded["scheduled"]
    return [
        ("calendar-month", reverse("calendar_app:calendar", args=[ws]) + "?view=month"),
        ("calendar-week", reverse("calendar_app:calendar", args=[ws]) + "?view=week"),
        ("calendar-list", reverse("calendar_app:calendar", args=[ws]) + "?view=list"),
        ("composer", reverse("calendar_app:post_create", args=[ws])),
        ("post-detail", reverse("calendar_app:post_detail", args=[ws, post.id])),
        ("post-edit", reverse("calendar_app:post_edit", args=[ws, post.id])),
        ("media", reverse("calendar_app:media", args=[ws])),
        ("posting-slots", reverse("calendar_app:posting_slots", args=[ws])),
        ("caption-library", reverse("calendar_app:caption_library", args=[ws])),
        ("import", reverse("calendar_app:import_start", args=[ws])),
        (
            "import-preview",
            reverse("calendar_app:import_detail", args=[ws, full.seeded["post_import"].id]),
        ),
        ("inbox", reverse("conversations:inbox", args=[ws])),
        ("inbox-post", reverse("conversations:post", args=[ws, video.id])),
        ("inbox-person", reverse("conversations:person", args=[ws, comment.person_ref])),
        ("analytics", reverse("analytics:overview", args=[ws])),
        ("analytics-video", reverse("analytics:video", args=[ws, video.id])),
        ("analytics-best-times", reverse("analytics:best_times", args=[ws])),
        ("analytics-report", reverse("analytics:report", args=[ws])),
        ("analytics-report-settings", reverse("analytics:report_settings", args=[ws])),
        ("accounts", reverse("accounts:tiktok_accounts", args=[ws])),
        ("members", reverse("accounts:members", args=[ws])),
        ("settings", reverse("accounts:workspace_settings", args=[ws])),
        ("workspace-new", reverse("accounts:workspace_create")),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_full_workspace_pages(
    width: int, full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    findings = Findings()
    page = signed_in(full.owner, width)
    for name, path in full_pages(full):
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_empty_workspace_pages(
    width: int, transactional_db: None, signed_in: Any, live_server: Any
) -> None:
    owner = UserFactory.create(email="new-owner@example.com")
    workspace = WorkspaceFactory.create(name="Brand new")
    MembershipFactory.create(workspace=workspace, user=owner, role=Role.OWNER)
    ws = workspace.id
    findings = Findings()
    page = signed_in(owner, width)
    for name, path in [
        ("empty-calendar", reverse("calendar_app:calendar", args=[ws])),
        ("empty-calendar-list", reverse("calendar_app:calendar", args=[ws]) + "?view=list"),
        ("empty-composer", reverse("calendar_app:post_create", args=[ws])),
        ("empty-media", reverse("calendar_app:media", args=[ws])),
        ("empty-posting-slots", reverse("calendar_app:posting_slots", args=[ws])),
        ("empty-caption-library", reverse("calendar_app:caption_library", args=[ws])),
        ("empty-inbox", reverse("conversations:inbox", args=[ws])),
        ("empty-analytics", reverse("analytics:overview", args=[ws])),
        ("empty-best-times", reverse("analytics:best_times", args=[ws])),
        ("empty-accounts", reverse("accounts:tiktok_accounts", args=[ws])),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_out_and_error_pages(
    width: int, transactional_db: None, signed_in: Any, live_server: Any
) -> None:
    findings = Findings()
    page = signed_in(None, width)
    for name, path in [
        ("sign-in", reverse("account_login")),
        ("sign-up", reverse("account_signup")),
        ("offline", reverse("offline")),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    # A form sent back with its errors.
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", "nobody@example.com")
    page.fill("input[name=password]", "wrong password")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    check_page(page, findings, "sign-in-error", width)

    user = UserFactory.create(email="errors@example.com")
    page = signed_in(user, width)
    page.goto(live_server.url + reverse("accounts:workspace_create"))
    page.fill("input[name=name]", "")
    page.locator(".content form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    check_page(page, findings, "workspace-new-error", width)
    page.goto(live_server.url + "/w/00000000-0000-0000-0000-000000000000/calendar/")
    check_page(page, findings, "not-found", width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_composer_error_state(
    width: int, full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    """The composer sent back with several errors: a summary linking to the fields, each
    message beside its field (aria-describedby), the input kept."""
    findings = Findings()
    page = signed_in(full.owner, width)
    url = reverse("calendar_app:post_create", args=[full.workspace.id])
    page.goto(f"{live_server.url}{url}?account={full.account.id}")
    page.get_by_test_id("caption").fill("Latte art <script>x</script>")
    page.get_by_test_id("first-comment").fill("x" * 151)
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("error-summary").wait_for()
    check_page(page, findings, "composer-error", width)
    findings.assert_none()


@pytest.mark.parametrize("width", [390, 1440])
def test_menus_and_dialogs_open(
    width: int, full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    findings = Findings()
    page = signed_in(full.owner, width)
    page.goto(live_server.url + reverse("calendar_app:calendar", args=[full.workspace.id]))
    if width < 961:
        page.get_by_test_id("menu-toggle").click()
        page.locator(".nav-open .sidebar").wait_for()
        check_page(page, findings, "menu-open", width)
        page.keyboard.press("Escape")
    page.locator("details.notifications summary").click()
    check_page(page, findings, "notifications-open", width)
    page.keyboard.press("Escape")
    page.locator("[data-move]").first.click()
    page.locator("dialog[open]").wait_for()
    check_page(page, findings, "move-dialog-open", width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_approval_pages(width: int, full: FullWorkspace, signed_in: Any, live_server: Any) -> None:
    """The Approvals page, activity, versions, a post in review with comments, the client's
    review page and its refusal, and the invitation page a signed-out invitee sees."""
    import datetime as dt

    from django.utils import timezone

    from accounts import services as account_services
    from accounts.models import Membership
    from calendar_app.approvals import links
    from calendar_app.approvals.services import post_comment_add, post_request_changes
    from calendar_app.models import Post, PostStatus, ReviewLink

    ws, owner = full.workspace, full.owner
    ws.approval_required = True
    ws.save()
    base = full.seeded["scheduled"]
    post = Post.objects.create(
        workspace=ws,
        account=full.account,
        media=base.media,
        caption="Pumpkin spice latte is back 🎃 #coffee #autumn",
        privacy_level="PUBLIC_TO_EVERYONE",
        status=PostStatus.IN_REVIEW,
        scheduled_at=timezone.now() + dt.timedelta(days=3),
        created_by=owner,
    )
    from calendar_app.approvals.versions import version_record

    version_record(post=post, author=owner)
    post.caption = "Pumpkin spice oat latte is back 🎃 #coffee #autumn #oatmilk"
    post.privacy_level = "FOLLOWER_OF_CREATOR"
    post.save()
    version_record(post=post, author=owner)
    post_comment_add(workspace=ws, post=post, body="Can we show the cup first?", user=owner)
    actor = Membership.objects.for_workspace(ws).get(user=owner)
    link = links.review_link_create(workspace=ws, actor=actor, name="Maria at Corner Café")
    expired = ReviewLink.objects.create(
        workspace=ws, name="Old", expires_at=timezone.now() - dt.timedelta(days=1)
    )
    other = Post.objects.create(
        workspace=ws,
        account=full.account,
        media=base.media,
        caption="Second post to review with a long caption " * 3,
        status=PostStatus.IN_REVIEW,
        scheduled_at=timezone.now() + dt.timedelta(days=4),
    )
    post_request_changes(workspace=ws, post=other, comment="Shorter, please", link=link)
    invitation = account_services.invitation_create(
        workspace=ws, actor=actor, email="invitee@example.com"
    )

    findings = Findings()
    page = signed_in(owner, width)
    for name, path in [
        ("approvals", reverse("approvals:queue", args=[ws.id])),
        ("activity", reverse("approvals:activity", args=[ws.id])),
        ("post-versions", reverse("approvals:post_versions", args=[ws.id, post.id])),
        ("post-in-review", reverse("calendar_app:post_detail", args=[ws.id, post.id])),
        ("members-invite", reverse("accounts:members", args=[ws.id])),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    anonymous = signed_in(None, width)
    for name, path in [
        ("review-link", links.review_link_url(link, absolute=False)),
        ("review-link-expired", links.review_link_url(expired, absolute=False)),
        ("invitation-welcome", reverse("accounts:invitation_accept", args=[invitation.token])),
    ]:
        anonymous.goto(live_server.url + path)
        check_page(anonymous, findings, name, width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_agency_pages(width: int, full: FullWorkspace, signed_in: Any, live_server: Any) -> None:
    from accounts import agency_services
    from accounts.models import AgencyMember

    agency = agency_services.agency_create(owner=full.owner, name="Northwind Social")
    actor = AgencyMember.objects.select_related("agency").get(agency=agency)
    agency_services.agency_client_attach(actor=actor, workspace_id=full.workspace.id)
    for name in ("Bolt Bikes", "Tokyo Ramen Bar"):
        agency_services.agency_client_create(actor=actor, name=name, time_zone="Asia/Tokyo")
    empty = agency_services.agency_create(owner=full.owner, name="Empty Agency")
    calendar = reverse("calendar_app:agency_calendar", args=[agency.id])
    findings = Findings()
    page = signed_in(full.owner, width)
    for name, path in [
        ("agency-home", reverse("accounts:agency_home", args=[agency.id])),
        ("agency-calendar-month", calendar + "?view=month"),
        ("agency-calendar-week", calendar + "?view=week"),
        ("agency-calendar-list", calendar + "?view=list"),
        ("agency-manage", reverse("accounts:agency_manage", args=[agency.id])),
        ("agency-empty-home", reverse("accounts:agency_home", args=[empty.id])),
        ("agency-new", reverse("accounts:agency_create")),
        ("workspace-list", reverse("accounts:workspace_list")),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_team_publishing_and_token_pages(
    width: int, full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    """Conversations' team settings (labels, saved replies, rules with a preview's result) and
    response times, a post's publishing page when it failed and when it went out, and the API
    tokens page before and after a token is made."""
    from calendar_app.models import Post, PostStatus
    from tests.conversations.factories import seed_conversation_team

    ws = full.workspace
    team = seed_conversation_team(workspace=ws, comment=full.seeded["comment"], user=full.owner)
    failed = Post.objects.for_workspace(ws).filter(status=PostStatus.FAILED).first()
    assert failed is not None
    rule_edit = reverse("conversations:rule_edit", args=[ws.id, team["rule_id"]])
    findings = Findings()
    page = signed_in(full.owner, width)
    for name, path in [
        ("conversations-team", reverse("conversations:team", args=[ws.id])),
        ("rule-new", reverse("conversations:rule_new", args=[ws.id])),
        ("rule-edit", rule_edit),
        (
            "saved-reply-edit",
            reverse("conversations:saved_reply_edit", args=[ws.id, team["saved_reply_id"]]),
        ),
        ("response-times", reverse("conversations:response_times", args=[ws.id])),
        ("publishing-failed", reverse("publishing:post_publishing", args=[ws.id, failed.id])),
        (
            "publishing-published",
            reverse("publishing:post_publishing", args=[ws.id, full.seeded["published"].id]),
        ),
        ("api-tokens", reverse("accounts:api_tokens")),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    page.goto(live_server.url + rule_edit)
    page.get_by_test_id("dry-run").click()
    page.get_by_test_id("dry-run-result").wait_for()
    check_page(page, findings, "rule-dry-run", width)
    page.goto(live_server.url + reverse("accounts:api_tokens"))
    page.fill("input[name=name]", "Reporting script")
    page.locator("input[name=workspaces]").first.check()
    page.get_by_test_id("create-token").click()
    page.get_by_test_id("token-secret").wait_for()
    check_page(page, findings, "api-token-created", width)
    findings.assert_none()


@pytest.mark.parametrize("width", WIDTHS)
def test_password_and_two_factor_pages(
    width: int, transactional_db: None, signed_in: Any, live_server: Any
) -> None:
    """allauth's pages: password reset (request, sent, a bad key), e-mail and password settings,
    two-factor setup, the code asked at sign-in, recovery codes and switching it off."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    findings = Findings()
    anonymous = signed_in(None, width)
    for name, path in [
        ("password-reset", reverse("account_reset_password")),
        ("password-reset-done", reverse("account_reset_password_done")),
        (
            "password-reset-bad-key",
            reverse("account_reset_password_from_key", kwargs={"uidb36": "1", "key": "x-y"}),
        ),
        ("password-reset-key-done", reverse("account_reset_password_from_key_done")),
        ("confirm-email-bad-key", reverse("account_confirm_email", args=["not-a-key"])),
        ("verification-sent", reverse("account_email_verification_sent")),
        ("account-inactive", reverse("account_inactive")),
    ]:
        anonymous.goto(live_server.url + path)
        check_page(anonymous, findings, name, width)

    # allauth asks for the password again before the security pages (reauthentication).
    password = "correct horse battery"

    def reauthenticate(page: Any) -> None:
        page.goto(live_server.url + reverse("account_reauthenticate"))
        page.fill("input[name=password]", password)
        page.locator(".content form button[type=submit]").first.click()
        page.wait_for_url(lambda url: "/reauthenticate/" not in url)

    plain = UserFactory.create(email="plain@example.com")
    # Two-factor setup is offered only once the e-mail address is verified.
    EmailAddress.objects.create(user=plain, email=plain.email, verified=True, primary=True)
    page = signed_in(plain, width)
    page.goto(live_server.url + reverse("account_reauthenticate"))
    check_page(page, findings, "reauthenticate", width)
    reauthenticate(page)
    for name, path in [
        ("mfa-index", reverse("mfa_index")),
        ("mfa-activate-totp", reverse("mfa_activate_totp")),
        ("account-email", reverse("account_email")),
        ("password-change", reverse("account_change_password")),
        ("sign-out", reverse("account_logout")),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    page.goto(live_server.url + reverse("mfa_activate_totp"))
    assert page.locator("input[name=code]").count() == 1, "the setup page, not a password prompt"

    # A user with two-factor on: the code asked at sign-in, then its settings pages.
    secured = UserFactory.create(email="secured@example.com")
    secret = generate_totp_secret()
    TOTP.activate(secured, secret)
    RecoveryCodes.activate(secured)
    page = signed_in(None, width)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", secured.email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/2fa/authenticate/" in url)
    check_page(page, findings, "mfa-authenticate", width)
    # allauth accepts only the current 30 s step (no tolerance): a code made in a step's last
    # seconds can reach the server in the next one and be refused. Wait for a fresh step.
    into_step = time.time() % 30
    if into_step > 25:
        time.sleep(30 - into_step + 0.2)
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    page.fill("input[name=code]", code)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
    page.goto(live_server.url + reverse("mfa_reauthenticate"))
    check_page(page, findings, "mfa-reauthenticate", width)
    reauthenticate(page)
    for name, path in [
        ("mfa-index-on", reverse("mfa_index")),
        ("mfa-recovery-codes", reverse("mfa_view_recovery_codes")),
        ("mfa-recovery-codes-generate", reverse("mfa_generate_recovery_codes")),
        ("mfa-deactivate-totp", reverse("mfa_deactivate_totp")),
    ]:
        page.goto(live_server.url + path)
        check_page(page, findings, name, width)
    page.goto(live_server.url + reverse("mfa_view_recovery_codes"))
    assert "/reauthenticate/" not in page.url, "the recovery codes, not a password prompt"
    findings.assert_none()
