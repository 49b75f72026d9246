"""The audit itself: axe really runs on the swept pages and a violation reaches the findings, so
a sweep that passes means the pages were checked, not that the check never ran."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.a11y.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_the_audit_reports_an_image_without_alt_text(
    transactional_db: None, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(None, 1440)
    page.goto(live_server.url + reverse("account_login"))
    assert not axe_violations(page)
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/static/img/logo.svg";
            document.querySelector("main").append(img);
        }"""
    )
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
