"""PKCE for Login Kit.

TikTok's desktop guide derives ``code_challenge`` as the *hex* SHA-256 digest of the verifier
(not RFC 7636's base64url), while still labelling the method ``S256``. We follow TikTok's
documented derivation by default; ``encoding="base64url"`` gives the RFC form. The simulator
accepts either form and rejects any verifier whose digest does not match.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from typing import Literal

ChallengeEncoding = Literal["hex", "base64url"]
_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"


def pkce_challenge(verifier: str, *, encoding: ChallengeEncoding = "hex") -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if encoding == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair(*, encoding: ChallengeEncoding = "hex", length: int = 64) -> tuple[str, str]:
    """Return ``(code_verifier, code_challenge)``; the challenge is sent with method S256."""
    if not 43 <= length <= 128:
        raise ValueError("RFC 7636 verifiers are 43-128 characters")
    verifier = "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))
    return verifier, pkce_challenge(verifier, encoding=encoding)
