"""Writes for agencies: create one, give it client workspaces, choose who reaches which clients.

Roles mirror workspace membership: owners and admins manage the agency; only owners grant or
change the owner and admin roles; an agency keeps at least one owner. A client workspace that
leaves its agency keeps a direct owner, so no workspace is ever left without one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.branding import color_errors, read_logo
from accounts.models import Agency, AgencyMember, Membership, Role, User, Workspace
from accounts.services import _validate_workspace_fields
from later.errors import Conflict, NotFound, RoleRequired, ValidationFailed
from later.roles import ROLE_RANK


def _validate_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the agency a name.", details={"name": ["Required."]})
    if len(name) > 120:
        raise ValidationFailed(
            "Agency names are at most 120 characters.", details={"name": ["Too long."]}
        )
    return name


def _require_manager(actor: AgencyMember) -> None:
    if not actor.can_manage:
        raise RoleRequired("Only the agency's owners and admins can do this.")


@transaction.atomic
def agency_create(*, owner: User, name: str) -> Agency:
    agency = Agency.objects.create(name=_validate_name(name))
    AgencyMember.objects.create(agency=agency, user=owner, role=Role.OWNER, all_clients=True)
    return agency


@transaction.atomic
def agency_update(*, actor: AgencyMember, name: str) -> Agency:
    _require_manager(actor)
    agency = actor.agency
    agency.name = _validate_name(name)
    agency.save(update_fields=["name", "updated_at"])
    return agency


@transaction.atomic
def agency_branding_update(
    *,
    actor: AgencyMember,
    primary_color: str,
    accent_color: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> Agency:
    """The logo and colours every client's report carries unless the client saved its own."""
    _require_manager(actor)
    errors = color_errors(primary_color=primary_color, accent_color=accent_color)
    logo_bytes, logo_type = b"", ""
    if logo is not None:
        logo_bytes, logo_type, problem = read_logo(logo)
        if problem:
            errors["logo"] = problem
    if errors:
        raise ValidationFailed(
            " ".join(errors.values()), details={k: [v] for k, v in errors.items()}
        )
    agency = Agency.objects.select_for_update().get(pk=actor.agency_id)
    agency.primary_color, agency.accent_color = primary_color.lower(), accent_color.lower()
    if logo is not None:
        agency.logo, agency.logo_content_type = logo_bytes, logo_type
    elif remove_logo:
        agency.logo, agency.logo_content_type = b"", ""
    agency.save(
        update_fields=["primary_color", "accent_color", "logo", "logo_content_type", "updated_at"]
    )
    return agency


# --- clients ------------------------------------------------------------------------------------


@transaction.atomic
def agency_client_create(*, actor: AgencyMember, name: str, time_zone: str = "UTC") -> Workspace:
    """A new client workspace owned by the agency. A manager who reaches chosen clients only
    gets the new one added to their choice, so they can open what they just created."""
    _require_manager(actor)
    name, time_zone = _validate_workspace_fields(name=name, time_zone=time_zone)
    # Two clients under one name are told apart nowhere (switcher, filters, reports); the
    # agency row is locked so that two people adding the same client at once get one.
    agency = Agency.objects.select_for_update().get(pk=actor.agency_id)
    if Workspace.objects.filter(agency=agency, name__iexact=name).exists():
        raise Conflict(f"{agency.name} already has a client named “{name}”.")
    workspace = Workspace.objects.create(name=name, time_zone=time_zone, agency=agency)
    if not actor.all_clients:
        actor.clients.add(workspace)
    return workspace


@transaction.atomic
def agency_client_attach(*, actor: AgencyMember, workspace_id: Any) -> Workspace:
    """Brings an existing workspace under the agency. The actor must own it directly: an
    agency cannot take over someone else's workspace."""
    _require_manager(actor)
    try:
        owned = (
            Membership.objects.select_related("workspace")
            .select_for_update(of=("self",))
            .get(workspace_id=workspace_id, user=actor.user, role=Role.OWNER)
        )
    except (Membership.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Choose a workspace you own.") from exc
    workspace = Workspace.objects.select_for_update().get(pk=owned.workspace_id)
    if workspace.agency_id == actor.agency_id:
        raise Conflict(f"{workspace.name} is already a client of {actor.agency.name}.")
    if workspace.agency_id is not None:
        raise Conflict(f"{workspace.name} belongs to another agency; remove it there first.")
    workspace.agency = actor.agency
    workspace.save(update_fields=["agency", "updated_at"])
    if not actor.all_clients:
        actor.clients.add(workspace)
    return workspace


@transaction.atomic
def agency_client_detach(*, actor: AgencyMember, workspace: Workspace) -> Workspace:
    """The workspace leaves the agency; agency members lose access to it. If nobody owns it
    directly, the actor becomes its owner (a workspace always keeps an owner)."""
    _require_manager(actor)
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if locked.agency_id != actor.agency_id:
        raise NotFound("Client not found.")
    AgencyMember.clients.through.objects.filter(workspace_id=locked.pk).delete()
    if not Membership.objects.for_workspace(locked).filter(role=Role.OWNER).exists():
        Membership.objects.for_workspace(locked).update_or_create(
            workspace=locked, user=actor.user, defaults={"role": Role.OWNER}
        )
    locked.agency = None
    locked.save(update_fields=["agency", "updated_at"])
    return locked


# --- members ------------------------------------------------------------------------------------


def _validate_grant(
    *, actor: AgencyMember, role: str, all_clients: bool, client_ids: Iterable[Any]
) -> list[Workspace]:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role “{role}”.", details={"role": ["Unknown role."]})
    if ROLE_RANK[role] >= ROLE_RANK[Role.ADMIN] and not actor.has_role(Role.OWNER):
        raise RoleRequired("Only agency owners can grant the owner and admin roles.")
    if all_clients:
        return []
    if role == Role.OWNER:
        raise ValidationFailed(
            "Owners reach every client; make them an admin to choose clients.",
            details={"clients": ["Owners reach every client."]},
        )
    wanted = {str(pk) for pk in client_ids if str(pk).strip()}
    try:
        clients = list(Workspace.objects.filter(agency_id=actor.agency_id, pk__in=list(wanted)))
    except (ValidationError, ValueError) as exc:
        raise ValidationFailed(
            "Choose among the agency's clients.", details={"clients": ["Unknown client."]}
        ) from exc
    if len(clients) != len(wanted):
        raise ValidationFailed(
            "Choose among the agency's clients.", details={"clients": ["Unknown client."]}
        )
    if not clients:
        raise ValidationFailed(
            "Choose at least one client, or give access to all clients.",
            details={"clients": ["Choose at least one client."]},
        )
    return clients


@transaction.atomic
def agency_member_add(
    *,
    actor: AgencyMember,
    email: str,
    role: str = Role.EDITOR,
    all_clients: bool = True,
    client_ids: Iterable[Any] = (),
) -> AgencyMember:
    _require_manager(actor)
    clients = _validate_grant(
        actor=actor, role=role, all_clients=all_clients, client_ids=client_ids
    )
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        raise ValidationFailed(
            "Nobody has signed up with that e-mail address yet. Ask them to create an account "
            "first, then add them here.",
            details={"email": ["No account with this address."]},
        )
    member, created = AgencyMember.objects.get_or_create(
        agency=actor.agency, user=user, defaults={"role": role, "all_clients": all_clients}
    )
    if not created:
        raise Conflict(f"{user.email} is already in {actor.agency.name}.")
    member.clients.set(clients)
    return member


def _owners_left(agency_id: Any, *, without: AgencyMember) -> int:
    return (
        AgencyMember.objects.filter(agency_id=agency_id, role=Role.OWNER)
        .exclude(pk=without.pk)
        .count()
    )


def _lock_member(actor: AgencyMember, agency_member_id: Any) -> AgencyMember:
    try:
        return (
            AgencyMember.objects.select_for_update()
            .select_related("user")
            .get(agency_id=actor.agency_id, pk=agency_member_id)
        )
    except (AgencyMember.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Agency member not found.") from exc


@transaction.atomic
def agency_member_update(
    *,
    actor: AgencyMember,
    agency_member_id: Any,
    role: str,
    all_clients: bool,
    client_ids: Iterable[Any] = (),
) -> AgencyMember:
    _require_manager(actor)
    target = _lock_member(actor, agency_member_id)
    if ROLE_RANK[target.role] >= ROLE_RANK[Role.ADMIN] and not actor.has_role(Role.OWNER):
        raise RoleRequired("Only agency owners can change owners and admins.")
    clients = _validate_grant(
        actor=actor, role=role, all_clients=all_clients, client_ids=client_ids
    )
    if (
        target.role == Role.OWNER
        and role != Role.OWNER
        and not _owners_left(actor.agency_id, without=target)
    ):
        raise Conflict("An agency needs at least one owner.")
    target.role, target.all_clients = role, all_clients
    target.save(update_fields=["role", "all_clients", "updated_at"])
    target.clients.set(clients)
    return target


@transaction.atomic
def agency_member_remove(*, actor: AgencyMember, agency_member_id: Any) -> None:
    target = _lock_member(actor, agency_member_id)
    if target.pk != actor.pk:
        _require_manager(actor)
        if ROLE_RANK[target.role] >= ROLE_RANK[Role.ADMIN] and not actor.has_role(Role.OWNER):
            raise RoleRequired("Only agency owners can remove owners and admins.")
    if target.role == Role.OWNER and not _owners_left(actor.agency_id, without=target):
        raise Conflict("An agency needs at least one owner.")
    target.delete()
