from django.urls import path

from accounts import agency_api, agency_views, api, token_views, views
from accounts.tiktok import api as tiktok_api
from accounts.tiktok import views as tiktok_views

app_name = "accounts"

W = "w/<uuid:workspace_id>/"
AG = "agencies/<uuid:agency_id>/"

urlpatterns = [
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("account/api-tokens/", token_views.api_tokens, name="api_tokens"),
    path(
        "account/api-tokens/<uuid:token_id>/revoke/",
        token_views.api_token_revoke,
        name="api_token_revoke",
    ),
    path("workspaces/", agency_views.workspace_list, name="workspace_list"),
    # Agencies
    path("agencies/new/", agency_views.agency_create, name="agency_create"),
    path(AG, agency_views.agency_home, name="agency_home"),
    path(AG + "manage/", agency_views.agency_manage, name="agency_manage"),
    path(AG + "branding/", agency_views.agency_branding, name="agency_branding"),
    path(AG + "clients/new/", agency_views.agency_client_create, name="agency_client_create"),
    path(AG + "clients/attach/", agency_views.agency_client_attach, name="agency_client_attach"),
    path(
        AG + "clients/<uuid:client_id>/remove/",
        agency_views.agency_client_remove,
        name="agency_client_remove",
    ),
    path(AG + "members/add/", agency_views.agency_member_add, name="agency_member_add"),
    path(
        AG + "members/<uuid:agency_member_id>/",
        agency_views.agency_member_update,
        name="agency_member_update",
    ),
    path(
        AG + "members/<uuid:agency_member_id>/remove/",
        agency_views.agency_member_remove,
        name="agency_member_remove",
    ),
    path("api/v1/agencies/", agency_api.AgencyListApi.as_view(), name="api_agencies"),
    path("api/v1/" + AG, agency_api.AgencyDetailApi.as_view(), name="api_agency"),
    path("api/v1/" + AG + "home/", agency_api.AgencyHomeApi.as_view(), name="api_agency_home"),
    path(
        "api/v1/" + AG + "clients/",
        agency_api.AgencyClientListApi.as_view(),
        name="api_agency_clients",
    ),
    path(
        "api/v1/" + AG + "clients/<uuid:client_id>/",
        agency_api.AgencyClientDetailApi.as_view(),
        name="api_agency_client",
    ),
    path(
        "api/v1/" + AG + "members/",
        agency_api.AgencyMemberListApi.as_view(),
        name="api_agency_members",
    ),
    path(
        "api/v1/" + AG + "members/<uuid:agency_member_id>/",
        agency_api.AgencyMemberDetailApi.as_view(),
        name="api_agency_member",
    ),
    path(W, views.workspace_home, name="workspace_home"),
    path(W + "settings/", views.workspace_settings, name="workspace_settings"),
    path(W + "members/", views.members, name="members"),
    path(W + "members/invite/", views.member_invite, name="member_invite"),
    path(W + "members/<uuid:membership_id>/role/", views.member_role, name="member_role"),
    path(W + "members/<uuid:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        W + "invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(W + "notifications/read/", views.notifications_read, name="notifications_read"),
    path(W + "notifications/feed/", views.notifications_feed, name="notifications_feed"),
    # REST API
    path("api/v1/workspaces/", api.WorkspaceListApi.as_view(), name="api_workspaces"),
    path("api/v1/" + W, api.WorkspaceDetailApi.as_view(), name="api_workspace"),
    path("api/v1/" + W + "members/", api.MemberListApi.as_view(), name="api_members"),
    path(
        "api/v1/" + W + "members/<uuid:membership_id>/",
        api.MemberDetailApi.as_view(),
        name="api_member",
    ),
    path("api/v1/" + W + "invitations/", api.InvitationListApi.as_view(), name="api_invitations"),
    path(
        "api/v1/" + W + "invitations/<uuid:invitation_id>/",
        api.InvitationDetailApi.as_view(),
        name="api_invitation",
    ),
    # TikTok accounts
    path("connect/tiktok/callback/", tiktok_views.tiktok_callback, name="tiktok_callback"),
    path(
        "connect/tiktok/business/callback/",
        tiktok_views.tiktok_business_callback,
        name="tiktok_business_callback",
    ),
    path("webhooks/tiktok/", tiktok_views.tiktok_webhook, name="tiktok_webhook"),
    path(
        "webhooks/tiktok/business/",
        tiktok_views.tiktok_business_webhook,
        name="tiktok_business_webhook",
    ),
    path(W + "accounts/", tiktok_views.tiktok_accounts, name="tiktok_accounts"),
    path(W + "accounts/connect/", tiktok_views.tiktok_connect, name="tiktok_connect"),
    path(
        W + "accounts/<uuid:account_id>/disconnect/",
        tiktok_views.tiktok_disconnect,
        name="tiktok_disconnect",
    ),
    path(
        W + "accounts/<uuid:account_id>/color/",
        tiktok_views.tiktok_account_color,
        name="tiktok_account_color",
    ),
    path(
        "api/v1/" + W + "tiktok-accounts/",
        tiktok_api.TikTokAccountListApi.as_view(),
        name="api_tiktok_accounts",
    ),
    path(
        "api/v1/" + W + "tiktok-accounts/connect/",
        tiktok_api.TikTokConnectApi.as_view(),
        name="api_tiktok_connect",
    ),
    path(
        "api/v1/" + W + "tiktok-accounts/<uuid:account_id>/",
        tiktok_api.TikTokAccountDetailApi.as_view(),
        name="api_tiktok_account",
    ),
]
