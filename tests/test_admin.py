"""Django admin: every model is registered, every changelist renders, no secret is shown."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.crypto import encrypt_token
from accounts.models import User, Workspace
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "calendar_app", "conversations", "analytics")


def test_every_model_is_registered() -> None:
    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS and m not in admin.site._registry
    ]
    assert not missing


def test_model_names_read_as_english() -> None:
    # Django derives names from class names: "Tik tok accounts", "Saved replys", "Report settingss".
    names = {
        m._meta.verbose_name_plural for m in apps.get_models() if m._meta.app_label in OUR_APPS
    }
    assert {"TikTok accounts", "TikTok OAuth states", "API tokens", "saved replies"} <= names
    assert {"activity entries", "report deliveries", "report settings"} <= names
    bad = sorted(
        str(n) for n in names if "tik tok" in str(n).lower() or str(n).endswith(("ys", "ss"))
    )
    assert not bad


def test_changelists_render_across_workspaces_without_tokens(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    superuser = User.objects.create_superuser("root@example.com", "pw-for-admin-123")
    account = TikTokAccountFactory.create(
        workspace=other_workspace,
        access_token_encrypted=encrypt_token("act.secret-access"),
        refresh_token_encrypted=encrypt_token("rft.secret-refresh"),
        business_access_token_encrypted=encrypt_token("act.secret-business"),
        business_refresh_token_encrypted=encrypt_token("rft.secret-business"),
    )
    client = Client()
    client.force_login(superuser)
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(reverse("admin:accounts_tiktokaccount_change", args=[account.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "secret-access" not in body and "secret-refresh" not in body
    assert "access_token_encrypted" not in body
    assert "secret-business" not in body
