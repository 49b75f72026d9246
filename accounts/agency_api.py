"""REST API for agencies (mirrors accounts.agency_views): the agency, its home figures, its
clients and who reaches them.

`AgencyAPIView` resolves the agency once (outsiders: 404, like workspaces). API tokens are made
for chosen workspaces, not for agencies: a token may read what the agency shows of the clients
it reaches, and managing an agency needs the browser session (403 `token_read_only`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import agency_selectors as selectors
from accounts import agency_services as services
from accounts.access import agency_member_resolve
from accounts.models import Agency, AgencyMember, Role, User, Workspace
from later.api import TokenScopeError
from later.authentication import request_token
from later.errors import RoleRequired
from later.idempotency import IdempotentAPIMixin
from later.tenancy import load_url_objects, loader_url_kwargs


class AgencySerializer(serializers.ModelSerializer[Agency]):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = ["id", "name", "role", "created_at"]
        read_only_fields = ["id", "role", "created_at"]

    def get_role(self, obj: Agency) -> str | None:
        return self.context.get("roles", {}).get(obj.pk)


class AgencyWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120)


class ClientSerializer(serializers.ModelSerializer[Workspace]):
    class Meta:
        model = Workspace
        fields = ["id", "name", "time_zone", "created_at"]
        read_only_fields = fields


class ClientWriteSerializer(serializers.Serializer[Any]):
    """Either `workspace_id` (bring a workspace you own into the agency) or `name` (and
    `time_zone`) for a new client workspace."""

    workspace_id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=120, required=False)
    time_zone = serializers.CharField(max_length=64, default="UTC")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("workspace_id" in attrs) == ("name" in attrs):
            raise serializers.ValidationError("Send either workspace_id or name.")
        return attrs


class AgencyMemberSerializer(serializers.ModelSerializer[AgencyMember]):
    email = serializers.EmailField(source="user.email", read_only=True)
    clients = serializers.SerializerMethodField()

    class Meta:
        model = AgencyMember
        fields = ["id", "email", "role", "all_clients", "clients", "created_at"]
        read_only_fields = fields

    def get_clients(self, obj: AgencyMember) -> list[str]:
        """The chosen clients' ids (empty when `all_clients`)."""
        return [] if obj.all_clients else [str(ws.pk) for ws in obj.clients.all()]


class AgencyMemberWriteSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EDITOR)
    all_clients = serializers.BooleanField(default=True)
    clients = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=1000
    )


class AgencyMemberAddSerializer(AgencyMemberWriteSerializer):
    email = serializers.EmailField()


class FigureSerializer(serializers.Serializer[Any]):
    value = serializers.IntegerField(allow_null=True)
    previous = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    caption = serializers.CharField()


class ClientRowSerializer(serializers.Serializer[Any]):
    client = ClientSerializer(source="workspace")
    role = serializers.CharField()
    figures = serializers.DictField(
        child=FigureSerializer(),
        help_text="due, failed, unconfirmed, reconnect, unread_comments, views_week "
        "(value: the last 7 days, previous: the 7 before), report (url of the latest report)",
    )


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class AgencyListApi(IdempotentAPIMixin, APIView):
    permission_classes = [permissions.IsAuthenticated]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS and request_token(request):
            raise TokenScopeError("Create agencies in the browser; API tokens act in workspaces.")
        self.idempotency_begin(request)

    @extend_schema(responses=AgencySerializer(many=True))
    def get(self, request: Request) -> Response:
        members = list(selectors.agencies_for_user(user=_user(request)))
        roles = {m.agency_id: m.role for m in members}
        return Response(
            AgencySerializer([m.agency for m in members], many=True, context={"roles": roles}).data
        )

    @extend_schema(request=AgencyWriteSerializer, responses={201: AgencySerializer})
    def post(self, request: Request) -> Response:
        body = AgencyWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agency = services.agency_create(owner=_user(request), name=body.validated_data["name"])
        data = AgencySerializer(agency, context={"roles": {agency.pk: Role.OWNER}}).data
        return Response(data, status=status.HTTP_201_CREATED)


class AgencyAPIView(IdempotentAPIMixin, APIView):
    """Base for endpoints under /api/v1/agencies/<agency_id>/: the one place the API resolves
    the agency (`self.agency`, `self.member`) and the URL's object (`load`, in the agency)."""

    permission_classes = [permissions.IsAuthenticated]
    read_role: str = Role.VIEWER
    write_role: str = Role.ADMIN
    load: ClassVar[Callable[..., Any] | None] = None

    agency: Agency
    member: AgencyMember
    object: Any

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.member = agency_member_resolve(user=request.user, agency_id=kwargs.get("agency_id"))
        self.agency = self.member.agency
        loader = type(self).load
        if loader is not None:
            self.object = load_url_objects(
                {"object": (loader, loader_url_kwargs(loader, scope="agency"))},
                agency=self.agency,
                url_kwargs=dict(kwargs),
            )["object"]
        unsafe = request.method not in permissions.SAFE_METHODS
        if unsafe and request_token(request) is not None:
            raise TokenScopeError("Manage agencies in the browser; API tokens act in workspaces.")
        needed = self.write_role if unsafe else self.read_role
        if not self.member.has_role(needed):
            raise RoleRequired(f"This needs the {needed} role in this agency.")
        self.idempotency_begin(request, workspace_id=self.agency.pk)

    def reachable(self, workspaces: list[Workspace]) -> list[Workspace]:
        """With an API token, only the clients it was made for."""
        token = request_token(self.request)
        return [ws for ws in workspaces if token is None or token.reaches(ws.pk)]


class AgencyDetailApi(AgencyAPIView):
    @extend_schema(responses=AgencySerializer)
    def get(self, request: Request, agency_id: Any) -> Response:
        ctx = {"roles": {self.agency.pk: self.member.role}}
        return Response(AgencySerializer(self.agency, context=ctx).data)

    @extend_schema(request=AgencyWriteSerializer, responses=AgencySerializer)
    def patch(self, request: Request, agency_id: Any) -> Response:
        body = AgencyWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agency = services.agency_update(actor=self.member, name=body.validated_data["name"])
        return Response(
            AgencySerializer(agency, context={"roles": {agency.pk: self.member.role}}).data
        )


class AgencyHomeApi(AgencyAPIView):
    @extend_schema(responses=ClientRowSerializer(many=True))
    def get(self, request: Request, agency_id: Any) -> Response:
        rows = selectors.agency_home(member=self.member)
        reached = {ws.pk for ws in self.reachable([row.workspace for row in rows])}
        rows = [row for row in rows if row.workspace.pk in reached]
        data = [
            {
                "workspace": row.workspace,
                "role": row.role,
                "figures": {
                    key: {
                        "value": f.value,
                        "previous": f.previous,
                        "url": f.url,
                        "caption": f.caption,
                    }
                    for key, f in row.figures.items()
                },
            }
            for row in rows
        ]
        return Response(ClientRowSerializer(data, many=True).data)


class AgencyClientListApi(AgencyAPIView):
    @extend_schema(responses=ClientSerializer(many=True))
    def get(self, request: Request, agency_id: Any) -> Response:
        clients = self.reachable([ws for ws, _role in selectors.member_clients(member=self.member)])
        return Response(ClientSerializer(clients, many=True).data)

    @extend_schema(request=ClientWriteSerializer, responses={201: ClientSerializer})
    def post(self, request: Request, agency_id: Any) -> Response:
        body = ClientWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "workspace_id" in data:
            ws = services.agency_client_attach(actor=self.member, workspace_id=data["workspace_id"])
        else:
            ws = services.agency_client_create(
                actor=self.member, name=data["name"], time_zone=data["time_zone"]
            )
        return Response(ClientSerializer(ws).data, status=status.HTTP_201_CREATED)


class AgencyClientDetailApi(AgencyAPIView):
    load = selectors.agency_client_get

    @extend_schema(responses=ClientSerializer)
    def get(self, request: Request, agency_id: Any, client_id: Any) -> Response:
        reached = selectors.member_clients(member=self.member, client_id=self.object.pk)
        if not self.reachable([ws for ws, _ in reached]):
            raise RoleRequired("You do not reach this client.")
        return Response(ClientSerializer(self.object).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, agency_id: Any, client_id: Any) -> Response:
        services.agency_client_detach(actor=self.member, workspace=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgencyMemberListApi(AgencyAPIView):
    @extend_schema(responses=AgencyMemberSerializer(many=True))
    def get(self, request: Request, agency_id: Any) -> Response:
        members = selectors.agency_members(agency=self.agency)
        return Response(AgencyMemberSerializer(members, many=True).data)

    @extend_schema(request=AgencyMemberAddSerializer, responses={201: AgencyMemberSerializer})
    def post(self, request: Request, agency_id: Any) -> Response:
        body = AgencyMemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        member = services.agency_member_add(
            actor=self.member,
            email=data["email"],
            role=data["role"],
            all_clients=data["all_clients"],
            client_ids=data["clients"],
        )
        member = selectors.agency_member_get(agency=self.agency, agency_member_id=member.pk)
        return Response(AgencyMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class AgencyMemberDetailApi(AgencyAPIView):
    load = selectors.agency_member_get
    write_role = Role.VIEWER  # the services decide: anyone may leave, managers change others

    @extend_schema(responses=AgencyMemberSerializer)
    def get(self, request: Request, agency_id: Any, agency_member_id: Any) -> Response:
        return Response(AgencyMemberSerializer(self.object).data)

    @extend_schema(request=AgencyMemberWriteSerializer, responses=AgencyMemberSerializer)
    def patch(self, request: Request, agency_id: Any, agency_member_id: Any) -> Response:
        body = AgencyMemberWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.agency_member_update(
            actor=self.member,
            agency_member_id=self.object.pk,
            role=data["role"],
            all_clients=data["all_clients"],
            client_ids=data["clients"],
        )
        member = selectors.agency_member_get(agency=self.agency, agency_member_id=self.object.pk)
        return Response(AgencyMemberSerializer(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, agency_id: Any, agency_member_id: Any) -> Response:
        services.agency_member_remove(actor=self.member, agency_member_id=self.object.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
