"""The API's one error shape: every endpoint's 400 names each bad field in `fields`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User, Workspace

pytestmark = pytest.mark.django_db


def test_a_serializer_400_lists_each_bad_field_like_every_other_endpoint(
    owner: User, workspace: Workspace, api_client_for: Callable[[User], APIClient]
) -> None:
    # Invitations validate with the serializer's own raise_exception, not `validated()`.
    response = api_client_for(owner).post(
        reverse("accounts:api_invitations", args=[workspace.id]),
        {"email": "not an address", "role": "superuser"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"email", "role"}
    assert error["fields"]["role"][0]["code"] == "invalid_choice"
    assert "superuser" in error["fields"]["role"][0]["message"]
    assert error["details"]["role"]  # the older key stays for existing callers


def test_a_body_that_is_not_an_object_still_has_the_one_shape(
    owner: User, workspace: Workspace, api_client_for: Callable[[User], APIClient]
) -> None:
    response = api_client_for(owner).post(
        reverse("accounts:api_invitations", args=[workspace.id]), [1, 2], format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and error["message"]
