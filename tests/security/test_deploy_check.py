"""`manage.py check --deploy` with production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_deploy_check() -> subprocess.CompletedProcess[str]:
    # Only what a deployment sets; the test run's own switches (async-unsafe...) stay out.
    inherited = ("PATH", "HOME", "DATABASE_URL", "REDIS_URL", "LANG")
    env = {
        **{k: os.environ[k] for k in inherited if k in os.environ},
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "later.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://later.example.com",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def issue_ids(output: str) -> list[str]:
    return re.findall(r"\(([\w.]+\.[EW]\d{3})\)", output)


@pytest.fixture(scope="module")
def deploy_check() -> subprocess.CompletedProcess[str]:
    return run_deploy_check()


def test_no_security_or_configuration_issue_in_production(
    deploy_check: subprocess.CompletedProcess[str],
) -> None:
    output = deploy_check.stdout + deploy_check.stderr
    blocking = [i for i in issue_ids(output) if not i.startswith("drf_spectacular.")]
    assert not blocking, output
    if deploy_check.returncode != 0:
        assert issue_ids(output), output  # it failed for a reason the checks named


def test_check_deploy_is_clean(deploy_check: subprocess.CompletedProcess[str]) -> None:
    # OpenAPI documentation warnings count too: the API docs are part of the product.
    output = deploy_check.stdout + deploy_check.stderr
    assert deploy_check.returncode == 0, output
