"""Create (idempotently) the demo user and workspaces used by the README's quick start: the
user's own café, and an agency the user owns over two client workspaces."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.agency_services import agency_client_attach, agency_client_create, agency_create
from accounts.models import AgencyMember, Membership, Role, User, Workspace
from accounts.services import workspace_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "later-demo"
# A staff user for the Django admin (/admin/), development only: its password is published.
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "later-admin"
DEMO_WORKSPACES = [
    ("Demo Coffee Co.", "Europe/Paris"),
    ("Demo Agency Client", "America/New_York"),
    ("Demo Tiny Bakery", "Europe/London"),
]
DEMO_AGENCY = "Demo Social Agency"
# The agency's clients; the others are the demo user's own workspaces.
DEMO_AGENCY_CLIENTS = {name for name, _ in DEMO_WORKSPACES[1:]}


class Command(BaseCommand):
    help = (
        "Create the demo user (demo@example.com / later-demo), a staff user for the admin "
        "(admin@example.com / later-admin), the demo workspaces and the demo agency over its "
        "client workspaces. Development only."
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
        agency_owner = self._agency_owner(user)
        for name, tz in DEMO_WORKSPACES:
            existing = Workspace.objects.filter(name=name).first()
            if name in DEMO_AGENCY_CLIENTS:
                if existing is None:
                    agency_client_create(actor=agency_owner, name=name, time_zone=tz)
                elif existing.agency_id is None:
                    # An earlier demo made it a workspace of the user's own; the agency takes it.
                    self._own(user, existing)
                    agency_client_attach(actor=agency_owner, workspace_id=existing.pk)
            elif existing is None:
                workspace_create(owner=user, name=name, time_zone=tz)
            else:
                self._own(user, existing)
        if user.last_workspace_id is None:
            # The first sign-in opens the café (the richest demo), not the alphabetically first.
            user.last_workspace = Workspace.objects.filter(name=DEMO_WORKSPACES[0][0]).first()
            user.save(update_fields=["last_workspace"])
        self._staff_user()
        self.stdout.write(f"Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"Admin (staff) user: {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}")

    def _agency_owner(self, user: User) -> AgencyMember:
        owner = (
            AgencyMember.objects.select_related("agency", "user")
            .filter(user=user, agency__name=DEMO_AGENCY, role=Role.OWNER)
            .first()
        )
        if owner is None:
            agency = agency_create(owner=user, name=DEMO_AGENCY)
            owner = AgencyMember.objects.select_related("agency", "user").get(
                agency=agency, user=user
            )
        return owner

    def _own(self, user: User, workspace: Workspace) -> None:
        if not user.memberships.filter(workspace=workspace).exists():
            Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)

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
