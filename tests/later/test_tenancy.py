"""Layer 2: the default manager of tenant models fails closed."""

from __future__ import annotations

import pytest

from accounts.models import Membership, TikTokAccount, Workspace
from later.tenancy import UnscopedQueryError
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


def test_unscoped_evaluation_raises(workspace: Workspace) -> None:
    TikTokAccountFactory.create(workspace=workspace)
    with pytest.raises(UnscopedQueryError):
        list(TikTokAccount.objects.all())
    with pytest.raises(UnscopedQueryError):
        TikTokAccount.objects.count()
    with pytest.raises(UnscopedQueryError):
        TikTokAccount.objects.filter(username__startswith="creator").exists()
    with pytest.raises(UnscopedQueryError):
        TikTokAccount.objects.update(username="x")
    with pytest.raises(UnscopedQueryError):
        TikTokAccount.objects.all().delete()
    with pytest.raises(UnscopedQueryError):
        TikTokAccount.objects.get(username="nobody")


def test_scoped_queries_only_see_their_workspace(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    mine = TikTokAccountFactory.create(workspace=workspace)
    TikTokAccountFactory.create(workspace=other_workspace)
    assert list(TikTokAccount.objects.for_workspace(workspace)) == [mine]
    assert list(TikTokAccount.objects.filter(workspace=workspace)) == [mine]
    assert list(TikTokAccount.objects.filter(workspace_id=workspace.id)) == [mine]
    assert TikTokAccount.objects.unscoped().count() == 2


def test_or_filters_do_not_count_as_scoped(workspace: Workspace) -> None:
    from django.db.models import Q

    TikTokAccountFactory.create(workspace=workspace)
    with pytest.raises(UnscopedQueryError):
        list(TikTokAccount.objects.filter(Q(workspace=workspace) | Q(username="x")))


def test_related_managers_are_scoped_by_their_row(workspace: Workspace) -> None:
    TikTokAccountFactory.create(workspace=workspace)
    assert workspace.tiktok_accounts.count() == 1
    membership = Membership.objects.for_workspace(workspace).first()
    assert membership is not None
    assert membership.user.memberships.count() == 1
