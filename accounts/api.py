"""REST API for workspaces, members and invitations (mirrors the HTML views)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.access import workspace_accesses
from accounts.models import Invitation, Membership, Role, User, Workspace
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView
from later.authentication import request_token
from later.errors import RoleRequired
from later.idempotency import IdempotentAPIMixin


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["id", "name", "time_zone", "role", "created_at"]
        read_only_fields = ["id", "role", "created_at"]

    def get_role(self, obj: Workspace) -> str | None:
        return self.context.get("roles", {}).get(obj.id)


class WorkspaceWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120)
    time_zone = serializers.CharField(max_length=64, default="UTC")


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "created_at"]


class RoleSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "expires_at", "created_at"]
        read_only_fields = ["id", "expires_at", "created_at"]


def _user(request: Request) -> User:
    """The signed-in user (every view here needs IsAuthenticated)."""
    assert isinstance(request.user, User)
    return request.user


class WorkspaceListApi(IdempotentAPIMixin, APIView):
    permission_classes = [IsAuthenticated]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.idempotency_begin(request)

    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request: Request) -> Response:
        memberships = workspace_accesses(user=_user(request))
        token = request_token(request)
        if token is not None:
            memberships = [m for m in memberships if token.reaches(m.workspace_id)]
        roles = {m.workspace_id: m.role for m in memberships}
        data = WorkspaceSerializer(
            [m.workspace for m in memberships], many=True, context={"roles": roles}
        ).data
        return Response(data)

    @extend_schema(request=WorkspaceWriteSerializer, responses={201: WorkspaceSerializer})
    def post(self, request: Request) -> Response:
        if request_token(request) is not None:
            # A token is bound to the workspaces chosen for it; a new one would be out of reach.
            raise RoleRequired("Create workspaces in the browser; API tokens act within theirs.")
        body = WorkspaceWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ws = services.workspace_create(owner=_user(request), **body.validated_data)
        data = WorkspaceSerializer(ws, context={"roles": {ws.id: Role.OWNER}}).data
        return Response(data, status=status.HTTP_201_CREATED)


class WorkspaceDetailApi(WorkspaceAPIView):
    write_role = Role.ADMIN

    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request: Request, workspace_id: Any) -> Response:
        ctx = {"roles": {self.workspace.id: self.membership.role}}
        return Response(WorkspaceSerializer(self.workspace, context=ctx).data)

    @extend_schema(request=WorkspaceWriteSerializer, responses=WorkspaceSerializer)
    def patch(self, request: Request, workspace_id: Any) -> Response:
        # Partial: JSON objects and form bodies alike; anything but an object is a 400.
        body = WorkspaceWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = {"name": self.workspace.name, "time_zone": self.workspace.time_zone}
        changes.update(body.validated_data)
        ws = services.workspace_update(workspace=self.workspace, **changes)
        return Response(
            WorkspaceSerializer(ws, context={"roles": {ws.id: self.membership.role}}).data
        )


class MemberListApi(WorkspaceAPIView):
    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        members = selectors.workspace_members(workspace=self.workspace)
        return Response(MembershipSerializer(members, many=True).data)


class MemberDetailApi(WorkspaceObjectAPIView[Membership]):
    load = selectors.membership_get
    write_role = Role.VIEWER  # the services decide: anyone may leave, admins manage others

    @extend_schema(request=RoleSerializer, responses=MembershipSerializer)
    def patch(self, request: Request, workspace_id: Any, membership_id: Any) -> Response:
        body = RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        m = services.membership_change_role(
            workspace=self.workspace,
            actor=self.membership,
            membership_id=self.object.pk,
            role=body.validated_data["role"],
        )
        return Response(MembershipSerializer(m).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any, membership_id: Any) -> Response:
        services.membership_remove(
            workspace=self.workspace, actor=self.membership, membership_id=self.object.pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListApi(WorkspaceAPIView):
    write_role = Role.ADMIN

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        invitations = selectors.workspace_pending_invitations(workspace=self.workspace)
        return Response(InvitationSerializer(invitations, many=True).data)

    @extend_schema(request=InvitationSerializer, responses={201: InvitationSerializer})
    def post(self, request: Request, workspace_id: Any) -> Response:
        body = InvitationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inv = services.invitation_create(
            workspace=self.workspace,
            actor=self.membership,
            email=body.validated_data["email"],
            role=body.validated_data.get("role", Role.EDITOR),
        )
        return Response(InvitationSerializer(inv).data, status=status.HTTP_201_CREATED)


class InvitationDetailApi(WorkspaceObjectAPIView[Invitation]):
    load = selectors.invitation_get
    write_role = Role.ADMIN

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any, invitation_id: Any) -> Response:
        services.invitation_revoke(
            workspace=self.workspace, actor=self.membership, invitation_id=self.object.pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
