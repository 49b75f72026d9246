"""The admin site: signed into through allauth like the rest of the product."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


def session_passed_second_factor(request: HttpRequest) -> bool:
    """Whether this session signed in the way its user must: with the second factor, when the
    user has one. Sessions only come from allauth's login, so its records say how."""
    from allauth.account.authentication import get_authentication_records
    from allauth.mfa.utils import is_mfa_enabled

    if not is_mfa_enabled(request.user):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request))


class LaterAdminSite(admin.AdminSite):
    """Django's admin, signed into through allauth like everything else (second factor, rate
    limits, trusted devices): its own password form is never shown."""

    site_header = "Later for TikTok administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and session_passed_second_factor(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from django.contrib.auth import logout
        from django.shortcuts import redirect, render
        from django.urls import reverse
        from django.utils.http import url_has_allowed_host_and_scheme, urlencode

        next_url = request.GET.get("next") or reverse("admin:index")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index")
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff:
            if self.has_permission(request):
                return HttpResponseRedirect(next_url)
            logout(request)  # a staff session without its second factor starts over
        elif user.is_authenticated:
            return render(
                request,
                "403.html",
                {"exception": "Your account has no access to the administration."},
                status=403,
            )
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


class LaterAdminConfig(AdminConfig):
    default_site = "later.admin_site.LaterAdminSite"
