"""Create (idempotently) the demo user and workspaces used by the README's quick start."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Role, User, Workspace
from accounts.services import workspace_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "later-demo"
DEMO_WORKSPACES = [("Demo Coffee Co.", "Europe/Paris"), ("Demo Agency Client", "America/New_York")]


class Command(BaseCommand):
    help = "Create the demo user (demo@example.com / later-demo) and two demo workspaces."

    @transaction.atomic
    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Demo")
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=DEMO_EMAIL, verified=True, primary=True)
        for name, tz in DEMO_WORKSPACES:
            existing = Workspace.objects.filter(name=name).first()
            if existing is None:
                workspace_create(owner=user, name=name, time_zone=tz)
            elif not user.memberships.filter(workspace=existing).exists():
                Membership.objects.create(workspace=existing, user=user, role=Role.OWNER)
        self.stdout.write(f"Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD}")
