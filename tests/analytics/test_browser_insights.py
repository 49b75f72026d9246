"""Browser: the best-time heatmap and the client report as a marketer uses them — choose an
account, read the best slot, pick a report period, download the PDF of the same figures."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import User, Workspace
from tests.analytics.seed import business_account, seed_hand_computed
from tests.analytics.test_best_times import _seed_posts
from tests.browser import chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tab(live_server: Any, owner: User) -> Iterator[Any]:
    with chromium_context() as context:
        client = Client()
        client.force_login(owner)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        yield context.new_page()


def test_best_times_heatmap_for_one_account(
    tab: Any, live_server: Any, workspace: Workspace
) -> None:
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    account = business_account(workspace)
    _seed_posts(account, weeks=12)  # Tuesday 18:00 Berlin triples the usual views

    tab.goto(live_server.url + reverse("analytics:best_times", args=[workspace.id]))
    # Choosing the account applies at once (no Apply needed for a select).
    with tab.expect_navigation():
        tab.locator("form[data-testid=best-times-filters] select[name=account]").select_option(
            str(account.id)
        )
    assert f"account={account.id}" in tab.url
    best = tab.get_by_test_id("best-posts")
    assert "Tuesday 18:00" in best.inner_text()
    assert "Medium confidence" in tab.get_by_test_id("confidence-posts").inner_text()
    assert "Europe/Berlin" in tab.content()


def test_report_period_then_pdf_of_the_same_figures(
    tab: Any, live_server: Any, workspace: Workspace
) -> None:
    seed_hand_computed(workspace)
    url = reverse("analytics:report", args=[workspace.id])
    tab.goto(live_server.url + url + "?range=custom&start=2026-03-14&end=2026-03-20")
    report = tab.get_by_test_id("report")
    assert "600" in tab.get_by_test_id("report-card-video_views").inner_text()
    assert "Mar 14, 2026" in report.inner_text()

    with tab.expect_download() as download_info:
        tab.get_by_test_id("report-pdf-link").click()
    download = download_info.value
    assert download.suggested_filename == "tiktok-report-2026-03-14-2026-03-20.pdf"
    body = Path(download.path()).read_bytes()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert "600" in text and "+71.4%" in text


def test_composer_suggests_the_best_free_times_from_history(
    tab: Any, live_server: Any, workspace: Workspace
) -> None:
    """Twelve weeks of posts where Tuesday 18:00 (Berlin) triples the views: the composer's
    best-times box offers that hour first, and a click sets the post's date and time."""
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    account = business_account(workspace)
    _seed_posts(account, weeks=12)
    tab.goto(
        live_server.url
        + reverse("calendar_app:post_create", args=[workspace.id])
        + f"?account={account.id}"
    )
    note = tab.locator("[data-role=best-times-note]")
    note.filter(has_text="Best free times for").wait_for()
    assert "Europe/Berlin" in note.inner_text()
    suggestions = tab.get_by_test_id("best-time")
    assert suggestions.count() >= 1
    best = suggestions.first
    label = best.inner_text()
    assert label.startswith("Tue") and label.endswith(", 18:00"), label
    best.click()
    note.filter(has_text="Set to").wait_for()
    day = tab.locator("[name=scheduled_date]").input_value()
    assert dt.date.fromisoformat(day).weekday() == 1
    assert tab.locator("[name=scheduled_time]").input_value() == "18:00"
