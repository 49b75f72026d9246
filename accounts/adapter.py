"""allauth hooks: the failed-login policy of accounts.login_throttle and trusted devices."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest, HttpResponse

from accounts import login_throttle


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # Replaces allauth's per-account lock, which anyone knowing the e-mail could trigger.
        login = login_throttle.credentials_login(credentials)
        if login_throttle.is_blocked(request, ip=self.get_client_ip(request), login=login):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        login = login_throttle.credentials_login(credentials)
        login_throttle.record_failure(request, ip=self.get_client_ip(request), login=login)

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        login_throttle.clear_account(login=login_throttle.credentials_login(credentials))

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post_login(request, user, **kwargs)
        login_throttle.set_trusted_device(response, user)
        return response
