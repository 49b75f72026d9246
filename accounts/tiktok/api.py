"""REST API for connected TikTok accounts (mirrors tiktok_views; never exposes tokens)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, TikTokAccount
from accounts.tiktok import connection, selectors
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView
from later.errors import ValidationFailed


class CapabilitySerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    available = serializers.BooleanField()
    reason = serializers.CharField()


class HealthSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    detail = serializers.CharField()


class TikTokAccountSerializer(serializers.ModelSerializer[TikTokAccount]):
    """An explicit allow-list of fields: token columns can never leak through `__all__`."""

    handle = serializers.CharField(read_only=True)
    health = serializers.SerializerMethodField()
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = TikTokAccount
        fields = [
            "id",
            "open_id",
            "username",
            "handle",
            "display_name",
            "avatar_url",
            "account_type",
            "is_private",
            "scopes",
            "color",
            "status",
            "status_reason",
            "access_token_expires_at",
            "refresh_token_expires_at",
            "follower_count",
            "business_id",
            "business_status",
            "business_status_reason",
            "business_scopes",
            "health",
            "capabilities",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema(responses=HealthSerializer)
    def get_health(self, obj: TikTokAccount) -> dict[str, Any]:
        return HealthSerializer(selectors.tiktok_account_health(account=obj)).data

    @extend_schema(responses=CapabilitySerializer(many=True))
    def get_capabilities(self, obj: TikTokAccount) -> list[dict[str, Any]]:
        caps = selectors.tiktok_account_capabilities(account=obj)
        return list(CapabilitySerializer(caps, many=True).data)


class ColorSerializer(serializers.Serializer[Any]):
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", help_text="#RRGGBB")


class ConnectResponseSerializer(serializers.Serializer[Any]):
    authorize_url = serializers.URLField()


class TikTokAccountListApi(WorkspaceAPIView):
    @extend_schema(responses=TikTokAccountSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        accounts = selectors.tiktok_accounts_for_workspace(workspace=self.workspace)
        return Response(TikTokAccountSerializer(accounts, many=True).data)


class TikTokAccountDetailApi(WorkspaceObjectAPIView[TikTokAccount]):
    load = connection.tiktok_account_get
    write_role = Role.ADMIN

    @extend_schema(responses=TikTokAccountSerializer)
    def get(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        return Response(TikTokAccountSerializer(self.object).data)

    @extend_schema(
        operation_id="tiktok_account_update",
        request=ColorSerializer,
        responses=TikTokAccountSerializer,
        description="Change the account's calendar colour (#RRGGBB). Owners and admins.",
    )
    def patch(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        data = ColorSerializer(data=request.data)
        if not data.is_valid():
            raise ValidationFailed("Some fields are invalid.", details=data.errors)
        account = connection.tiktok_account_set_color(
            account=self.object, color=data.validated_data["color"]
        )
        return Response(TikTokAccountSerializer(account).data)

    @extend_schema(responses={200: TikTokAccountSerializer})
    def delete(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        revoked = connection.tiktok_account_disconnect(
            workspace=self.workspace, membership=self.membership, account=self.object
        )
        # The service changed a locked copy of the row: read what it wrote.
        account = connection.tiktok_account_get(workspace=self.workspace, account_id=account_id)
        body = dict(TikTokAccountSerializer(account).data)
        body["revoked_at_tiktok"] = revoked
        return Response(body)


class TikTokConnectApi(WorkspaceAPIView):
    """Start a connection; the user must open `authorize_url` in this same browser session."""

    write_role = Role.ADMIN

    @extend_schema(request=None, responses={201: ConnectResponseSerializer})
    def post(self, request: Request, workspace_id: Any) -> Response:
        session = request._request.session
        if session.session_key is None:
            session.save()
        url = connection.tiktok_connect_start(
            workspace=self.workspace,
            membership=self.membership,
            session_key=session.session_key or "",
        )
        return Response({"authorize_url": url}, status=status.HTTP_201_CREATED)
