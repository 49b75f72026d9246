"""Schemathesis against a live test server: every operation of the OpenAPI schema, in the
examples, coverage, fuzzing and stateful phases. No server error, and no response that the
schema does not describe (status code, content type, body, headers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from accounts.token_services import api_token_create
from tests.security.conftest import Seeded

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


def test_the_api_keeps_its_documented_contract(
    live_server: Any, seeded: Seeded, owner: User, security_sim: Any, tmp_path: Path
) -> None:
    secret = api_token_create(
        user=owner,
        name="schemathesis",
        access="read_write",
        workspace_ids=[seeded.workspace.id],
        lifetime_days=7,
    ).secret
    # Real ids, so operations get past 404 and into their validation and actions.
    values = seeded.url_values()
    names = ["workspace_id", "post_id", "media_id", "comment_id", "account_id", "video_id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n" + "".join(f'"path.{name}" = "{values[name]}"\n' for name in names)
    )
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--url",
        live_server.url,
        "-H",
        f"Authorization: Bearer {secret}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "6",
        "--generation-deterministic",
        "--continue-on-failure",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=1500, cwd=tmp_path, check=False
    )
    report = result.stdout[-20000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "Operations:" in result.stdout
