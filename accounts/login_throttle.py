"""Failed sign-in throttling that a stranger cannot turn against the account's owner.

Policy (also in README.md, "Signing in"):
- From a browser without a trusted-device cookie, failures are counted per IP address and
  account (5 in 15 minutes), per IP address (20 a minute, whatever the account) and per
  account from everywhere (50 an hour, against guessing spread over many addresses).
  Reaching one of them refuses further attempts of that kind, the right password included.
- A successful sign-in (second factor included) leaves a signed trusted-device cookie for
  that account, valid 90 days and void once the password changes. Attempts carrying it are
  counted only against that device (10 in 15 minutes), so no failure elsewhere locks it out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

TRUSTED_DEVICE_COOKIE = "later_trusted_device"
TRUSTED_DEVICE_DAYS = 90
_SALT = "later.accounts.trusted-device"


@dataclass(frozen=True)
class Bucket:
    name: str
    limit: int
    window_seconds: int


IP_AND_ACCOUNT = Bucket("ip-account", 5, 15 * 60)
IP = Bucket("ip", 20, 60)
ACCOUNT = Bucket("account", 50, 60 * 60)
TRUSTED_DEVICE = Bucket("device", 10, 15 * 60)


def _password_tag(user: User) -> str:
    return salted_hmac(_SALT, user.password).hexdigest()[:32]


def trusted_device_value(user: User) -> str:
    device = secrets.token_urlsafe(12)
    return signing.dumps(
        {"u": str(user.public_id), "d": device, "p": _password_tag(user)}, salt=_SALT
    )


def trusted_device_for(request: HttpRequest, login: str) -> str | None:
    """The device id when the request carries a valid trusted-device cookie for `login`."""
    raw = request.COOKIES.get(TRUSTED_DEVICE_COOKIE)
    if not raw or not login:
        return None
    try:
        data = signing.loads(raw, salt=_SALT, max_age=TRUSTED_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(email__iexact=login, is_active=True).first()
    if user is None or str(user.public_id) != data.get("u"):
        return None
    if not constant_time_compare(str(data.get("p", "")), _password_tag(user)):
        return None  # the password changed since: the device must sign in afresh
    return str(data.get("d", "")) or None


def set_trusted_device(response: HttpResponse, user: User) -> None:
    response.set_cookie(
        TRUSTED_DEVICE_COOKIE,
        trusted_device_value(user),
        max_age=TRUSTED_DEVICE_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def _buckets(request: HttpRequest, ip: str, login: str) -> list[tuple[Bucket, str]]:
    device = trusted_device_for(request, login)
    if device:
        return [(TRUSTED_DEVICE, device)]
    return [(IP_AND_ACCOUNT, f"{ip}|{login}"), (IP, ip), (ACCOUNT, login)]


def _cache_key(bucket: Bucket, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:40]
    return f"login-failures:{bucket.name}:{digest}"


def is_blocked(request: HttpRequest, *, ip: str, login: str) -> bool:
    return any(
        (cache.get(_cache_key(bucket, subject)) or 0) >= bucket.limit
        for bucket, subject in _buckets(request, ip, login.lower())
    )


def record_failure(request: HttpRequest, *, ip: str, login: str) -> None:
    for bucket, subject in _buckets(request, ip, login.lower()):
        key = _cache_key(bucket, subject)
        cache.add(key, 0, timeout=bucket.window_seconds)  # the window starts at the first failure
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=bucket.window_seconds)


def clear_account(*, login: str) -> None:
    """After a password reset by e-mail the account's own lock is lifted (not the IP ones)."""
    cache.delete(_cache_key(ACCOUNT, login.lower()))


def credentials_login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "").strip().lower()
