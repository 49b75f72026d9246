"""Create (idempotently) the demo user and workspaces used by the README's quick start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership, Role, User, Workspace
from accounts.services import workspace_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "later-demo"
# A staff user for the Django admin (/admin/), development only: its password is published.
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "later-admin"
DEMO_WORKSPACES = [("Demo Coffee Co.", "Europe/Paris"), ("Demo Agency Client", "America/New_York")]


class Command(BaseCommand):
    help = (
        "Create the demo user (demo@example.com / later-demo), a staff user for the admin "
        "(admin@example.com / later-admin) and the demo workspaces. Development only."
    )

    @transaction.atomic
    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG:
            # Both passwords are in the README: never create them on a real installation.
            raise CommandError(
                "demo_setup creates users with published passwords; it only runs with DEBUG=True."
            )
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
        if user.last_workspace_id is None:
            # The first sign-in opens the café (the richest demo), not the alphabetically first.
            user.last_workspace = Workspace.objects.filter(name=DEMO_WORKSPACES[0][0]).first()
            user.save(update_fields=["last_workspace"])
        self._staff_user()
        self.stdout.write(f"Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"Admin (staff) user: {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}")

    def _staff_user(self) -> None:
        from allauth.account.models import EmailAddress

        admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_superuser(
                DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, first_name="Admin"
            )
        EmailAddress.objects.get_or_create(
            user=admin, email=DEMO_ADMIN_EMAIL, defaults={"verified": True, "primary": True}
        )
