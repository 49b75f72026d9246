"""Approvals in an agency's client workspaces: agency owners and admins approve there (the same
role resolution as every page, accounts.access), editors do not, and the review notifications
reach people who work in the client through the agency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from accounts import agency_services
from accounts.models import Agency, AgencyMember, Membership, Notification, Role, User, Workspace
from calendar_app import services
from calendar_app.approvals import reminders
from calendar_app.approvals.services import is_approver, post_approve, post_request_changes
from calendar_app.models import ActivityEntry, Post, PostStatus
from calendar_app.services import PostContent, PostTarget
from later.errors import AppError
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> User:
    return UserFactory.create(email="boss@agency.test")


@pytest.fixture
def agency(boss: User) -> Agency:
    return agency_services.agency_create(owner=boss, name="Northwind Social")


def _owner_of(agency: Agency) -> AgencyMember:
    return AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)


@pytest.fixture
def acme(agency: Agency) -> Workspace:
    """A client the agency owner created: nobody holds a Membership row in it."""
    ws = agency_services.agency_client_create(actor=_owner_of(agency), name="Acme Coffee")
    ws.approval_required = True
    ws.save()
    assert not Membership.objects.for_workspace(ws).exists()
    return ws


@pytest.fixture
def rival(agency: Agency) -> Workspace:
    return agency_services.agency_client_create(actor=_owner_of(agency), name="Rival Tea")


def _member(agency: Agency, email: str, role: str, clients: list[Workspace] | None = None) -> User:
    user = UserFactory.create(email=email)
    agency_services.agency_member_add(
        actor=_owner_of(agency),
        email=email,
        role=role,
        all_clients=clients is None,
        client_ids=[c.pk for c in clients or []],
    )
    return user


@pytest.fixture
def agency_admin(agency: Agency, acme: Workspace) -> User:
    return _member(agency, "admin@agency.test", Role.ADMIN)


@pytest.fixture
def agency_editor(agency: Agency, acme: Workspace) -> User:
    """An editor given Acme only."""
    return _member(agency, "editor@agency.test", Role.EDITOR, [acme])


@pytest.fixture
def rival_admin(agency: Agency, rival: Workspace) -> User:
    """An admin of the agency given the other client only."""
    return _member(agency, "rival-admin@agency.test", Role.ADMIN, [rival])


def _create(workspace: Workspace, user: User, *, hours: float = 48) -> Post:
    account = TikTokAccountFactory.create(workspace=workspace)
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=30.0)
    local = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    (post,) = services.post_create(
        workspace=workspace,
        user=user,
        content=PostContent(
            caption="Oat flat white #coffee",
            media_id=video.id,
            scheduled_local=local.replace(tzinfo=None),
            scheduled_tz="UTC",
        ),
        targets=[PostTarget(account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE")],
        schedule=True,
        creator_infos={str(account.id): creator_info()},
    )
    return post


def _notes(workspace: Workspace, user: User, kind: str) -> int:
    return Notification.objects.for_workspace(workspace).filter(user=user, kind=kind).count()


def test_agency_owner_approves_in_a_client_workspace_and_the_author_hears(
    acme: Workspace, boss: User, agency_editor: User
) -> None:
    post = _create(acme, agency_editor)
    assert post.status == PostStatus.IN_REVIEW  # an editor through the agency: to review
    assert is_approver(workspace=acme, user=boss)
    approved = post_approve(workspace=acme, post=post, user=boss, note="Go")
    assert approved.status == PostStatus.SCHEDULED
    assert approved.approved_by == boss
    # The author reaches Acme through the agency only, and is told.
    assert _notes(acme, agency_editor, "post_review") == 1


def test_agency_admin_approves_and_requests_changes_through_the_page_and_api(
    acme: Workspace,
    agency_admin: User,
    agency_editor: User,
    client_for: Callable[[User], Any],
    api_client_for: Callable[[User], Any],
) -> None:
    first, second = _create(acme, agency_editor), _create(acme, agency_editor)
    page = client_for(agency_admin).post(
        reverse("approvals:post_approve", args=[acme.id, first.id]), {"body": "Lovely"}
    )
    assert page.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.approved_by) == (PostStatus.SCHEDULED, agency_admin)

    api = api_client_for(agency_admin)
    changes = api.post(
        reverse("approvals:api_post_request_changes", args=[acme.id, second.id]),
        {"body": "Say oat milk"},
        format="json",
    )
    assert changes.status_code == 200, changes.content
    second.refresh_from_db()
    assert second.status == PostStatus.DRAFT
    assert _notes(acme, agency_editor, "post_review") == 2  # approved, changes requested
    post = _create(acme, agency_editor)
    approved = api.post(
        reverse("approvals:api_post_approve", args=[acme.id, post.id]), {}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == PostStatus.SCHEDULED


def test_agency_editor_with_chosen_clients_cannot_approve(
    acme: Workspace,
    agency_editor: User,
    agency_admin: User,
    client_for: Callable[[User], Any],
) -> None:
    post = _create(acme, agency_admin)
    post_request_changes(workspace=acme, post=post, comment="Again, please", user=agency_admin)
    post = services.post_schedule(
        workspace=acme,
        post=post,
        creator_infos={str(post.account_id): creator_info()},
        actor=agency_editor,
    )
    assert post.status == PostStatus.IN_REVIEW
    assert not is_approver(workspace=acme, user=agency_editor)
    with pytest.raises(AppError) as exc:
        post_approve(workspace=acme, post=post, user=agency_editor)
    assert exc.value.status == 403
    page = client_for(agency_editor).post(
        reverse("approvals:post_approve", args=[acme.id, post.id])
    )
    assert page.status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_an_agency_admins_own_post_is_approved_at_once(acme: Workspace, agency_admin: User) -> None:
    post = _create(acme, agency_admin)
    assert post.status == PostStatus.SCHEDULED
    assert post.approved_by == agency_admin and post.approved_at is not None
    verbs = ActivityEntry.objects.for_workspace(acme).values_list("verb", flat=True)
    assert list(verbs.order_by("created_at")) == ["created", "approved"]


def test_a_direct_editor_who_is_an_agency_admin_approves(
    acme: Workspace, agency_admin: User, agency_editor: User
) -> None:
    """Both a member row and agency access: the higher role wins, as on every page."""
    Membership.objects.create(workspace=acme, user=agency_admin, role=Role.EDITOR)
    post = _create(acme, agency_editor)
    assert is_approver(workspace=acme, user=agency_admin)
    assert post_approve(workspace=acme, post=post, user=agency_admin).approved_by == agency_admin


def test_deadline_warnings_reach_agency_approvers_and_the_agency_author(
    acme: Workspace,
    boss: User,
    agency_admin: User,
    agency_editor: User,
    rival_admin: User,
    settings: Any,
) -> None:
    settings.APPROVAL_WARNING_MINUTES = 60
    post = _create(acme, agency_editor, hours=3)
    assert post.scheduled_at is not None
    mail.outbox.clear()
    soon = post.scheduled_at - timedelta(minutes=30)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.review_deadlines_check(now=soon)["warned"] == 1
    for user in (boss, agency_admin, agency_editor):
        assert _notes(acme, user, "review_deadline") == 1, user.email
    assert _notes(acme, rival_admin, "review_deadline") == 0  # not given Acme
    approvers, author = mail.outbox
    assert set(approvers.to) == {boss.email, agency_admin.email}
    assert author.to == [agency_editor.email]

    late = post.scheduled_at + timedelta(minutes=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.review_deadlines_check(now=late)["missed"] == 1
    assert _notes(acme, agency_editor, "review_deadline") == 2
    assert _notes(acme, boss, "review_deadline") == 2


def test_an_author_who_lost_agency_access_is_not_notified(
    acme: Workspace, agency: Agency, boss: User, agency_editor: User
) -> None:
    post = _create(acme, agency_editor)
    AgencyMember.objects.filter(agency=agency, user=agency_editor).delete()
    post_approve(workspace=acme, post=post, user=boss)
    assert _notes(acme, agency_editor, "post_review") == 0


def test_an_agency_member_without_access_to_the_client_gets_404(
    acme: Workspace,
    agency_editor: User,
    rival_admin: User,
    client_for: Callable[[User], Any],
    api_client_for: Callable[[User], Any],
) -> None:
    post = _create(acme, agency_editor)
    assert not is_approver(workspace=acme, user=rival_admin)
    page = client_for(rival_admin).post(reverse("approvals:post_approve", args=[acme.id, post.id]))
    assert page.status_code == 404
    api = api_client_for(rival_admin).post(
        reverse("approvals:api_post_approve", args=[acme.id, post.id]), {}, format="json"
    )
    assert api.status_code == 404
    with pytest.raises(AppError) as exc:
        post_approve(workspace=acme, post=post, user=rival_admin)
    assert exc.value.status == 403  # the service refuses too, whatever the caller checked
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
