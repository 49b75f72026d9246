"""Client reports: the PDF's text, branding, and one e-mail per period across restarts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

from accounts.models import Workspace
from analytics import charts, reporting, reports
from analytics.models import DeliveryStatus, ReportDelivery, ReportFrequency, ReportSchedule
from analytics.reports import last_complete_period
from analytics.selectors import DateRange
from analytics.tasks import dispatch_due_reports
from tests.analytics.seed import seed_hand_computed

pytestmark = pytest.mark.django_db

PERIOD = {"range": "custom", "start": "2026-03-14", "end": "2026-03-20"}


def _png(color: str = "#123456") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


FILL_OPERATORS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
STROKE_OPERATORS = {b"S", b"s", b"B", b"B*", b"b", b"b*"}


def _pdf_paints(body: bytes) -> Counter[tuple[str, str]]:
    """How many shapes the first page fills and strokes in each colour: ("fill", "#0055aa")."""
    reader = PdfReader(io.BytesIO(body))
    found: Counter[tuple[str, str]] = Counter()

    def hex_of(operands: list) -> str:
        values = [float(value) for value in operands]
        values = values * 3 if len(values) == 1 else values  # gray
        return "#" + "".join(f"{round(value * 255):02x}" for value in values[:3])

    def walk(stream: Any, resources: Any, fill: str, stroke: str) -> None:
        saved: list[tuple[str, str]] = []
        for operands, operator in ContentStream(stream, reader).operations:
            if operator == b"q":
                saved.append((fill, stroke))
            elif operator == b"Q":
                fill, stroke = saved.pop()
            elif operator in (b"rg", b"g"):
                fill = hex_of(operands)
            elif operator in (b"RG", b"G"):
                stroke = hex_of(operands)
            elif operator == b"Do":  # a form XObject inherits the graphics state
                form = resources["/XObject"][operands[0]].get_object()
                if form["/Subtype"] == "/Form":
                    walk(form, form.get("/Resources", resources), fill, stroke)
            if operator in FILL_OPERATORS:
                found["fill", fill] += 1
            if operator in STROKE_OPERATORS:
                found["stroke", stroke] += 1

    page = reader.pages[0]
    walk(page.get_contents(), page["/Resources"], "#000000", "#000000")
    return found


def test_pdf_renders_the_same_figures_as_the_web_page(workspace: Workspace, client_for, owner):
    seed_hand_computed(workspace)
    reporting.report_settings_update(
        workspace=workspace,
        agency_name="Northwind Agency",
        primary_color="#0055AA",
        accent_color="#ff9900",
        logo=_png(),
    )
    client = client_for(owner)

    page = client.get(reverse("analytics:report", args=[workspace.pk]), PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "prepared by Northwind Agency" in html
    assert "--rp-primary: #0055aa" in html
    assert 'src="data:image/png;base64,' in html

    response = client.get(reverse("analytics:report_pdf", args=[workspace.pk]), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "tiktok-report-2026-03-14-2026-03-20.pdf" in response["Content-Disposition"]
    text = _pdf_text(response.content)
    assert "TikTok report · Acme Client" in text
    assert "Mar 14, 2026 \N{EN DASH} Mar 20, 2026" in text
    assert "prepared by Northwind Agency" in text
    # 6 measured days of 100 views; the previous week had 7 days of 50 (+71.4%).
    assert "VIDEO VIEWS" in text.upper()
    assert "600" in text and "+71.4%" in text
    assert "Top posts by views" in text
    assert "1,000" in text  # the top video's lifetime views, with a thousands separator
    # The response-times section is left out entirely while Conversations has no figures.
    assert "Response times" not in text
    # The web page carries the same figures.
    assert ">600<" in html.replace("\n", "").replace(" ", "") or "600" in html
    assert "+71.4%" in html


def test_report_defaults_to_last_full_month(workspace: Workspace, client_for, owner):
    with time_machine.travel(dt.datetime(2026, 4, 2, 12, tzinfo=dt.UTC)):
        page = client_for(owner).get(reverse("analytics:report", args=[workspace.pk]))
    assert page.status_code == 200
    assert "Mar 1, 2026 \N{EN DASH} Mar 31, 2026" in page.content.decode()
    # A month compares with the month before, not with the 31 days before it.
    assert "Feb 1 \N{EN DASH} Feb 28, 2026" in page.content.decode()


def test_periods_are_whole_weeks_and_months() -> None:
    thursday = dt.date(2026, 3, 19)
    week = last_complete_period(frequency=ReportFrequency.WEEKLY, today=thursday)
    assert (week.start, week.end) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    month = last_complete_period(frequency=ReportFrequency.MONTHLY, today=dt.date(2026, 3, 1))
    assert (month.start, month.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def _schedule(workspace: Workspace, created: dt.datetime) -> ReportSchedule:
    with time_machine.travel(created):
        return reporting.report_schedule_create(
            workspace=workspace,
            frequency=ReportFrequency.WEEKLY,
            recipients=["Client@Example.com", "boss@example.com", "client@example.com"],
        )


def test_scheduled_report_is_sent_once_per_period_across_beat_restarts(
    workspace: Workspace, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    seed_hand_computed(workspace)
    schedule = _schedule(workspace, dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC))
    assert schedule.recipients == ["boss@example.com", "client@example.com"]

    # Monday Mar 23: the week Mar 16-22 has ended. Beat fires, then is restarted and fires
    # again for the same period (and a stray duplicate send task arrives too).
    with time_machine.travel(dt.datetime(2026, 3, 23, 6, tzinfo=dt.UTC)):
        assert dispatch_due_reports() == 1
        assert dispatch_due_reports() == 0
        delivery = ReportDelivery.objects.for_workspace(workspace).get()
        assert (
            reporting.report_delivery_send(workspace=workspace, delivery_id=str(delivery.pk))
            is False
        )
    with time_machine.travel(dt.datetime(2026, 3, 23, 7, tzinfo=dt.UTC)):
        assert dispatch_due_reports() == 0

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["boss@example.com", "client@example.com"]
    assert "Mar 16 to Mar 22, 2026" in sent.subject
    name, body, kind = sent.attachments[0]
    assert kind == "application/pdf" and name.endswith("2026-03-16-2026-03-22.pdf")
    assert "TikTok report" in _pdf_text(body)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1

    # The next week is its own period: one more e-mail.
    with time_machine.travel(dt.datetime(2026, 3, 30, 6, tzinfo=dt.UTC)):
        assert dispatch_due_reports() == 1
    assert len(mail.outbox) == 2


def test_a_claimed_delivery_is_never_sent_twice(workspace: Workspace, settings):
    """A worker died after claiming: the period is not sent again by a restarted beat."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    schedule = _schedule(workspace, dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 3, 23, 6, tzinfo=dt.UTC)):
        waiting = reporting.reports_dispatch_due()
        assert len(waiting) == 1
        ReportDelivery.objects.for_workspace(workspace).update(status=DeliveryStatus.SENDING)
        assert reporting.reports_dispatch_due() == []
        assert (
            ReportDelivery.objects.for_workspace(workspace).filter(schedule=schedule).count() == 1
        )
    assert mail.outbox == []


def test_failed_send_is_retried_then_sent_once(workspace: Workspace, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _schedule(workspace, dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC))
    real_send = reporting.EmailMultiAlternatives.send
    calls = {"n": 0}

    def flaky(self, fail_silently: bool = False) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("SMTP server down")
        return real_send(self, fail_silently)

    monkeypatch.setattr(reporting.EmailMultiAlternatives, "send", flaky)
    with time_machine.travel(dt.datetime(2026, 3, 23, 6, tzinfo=dt.UTC)):
        dispatch_due_reports()
        delivery = ReportDelivery.objects.for_workspace(workspace).get()
        assert delivery.status == DeliveryStatus.FAILED
        assert "SMTP server down" in delivery.error
        dispatch_due_reports()
        dispatch_due_reports()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert len(mail.outbox) == 1


def test_periods_before_the_schedule_existed_are_not_owed(workspace: Workspace, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _schedule(workspace, dt.datetime(2026, 3, 25, 9, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 3, 26, 6, tzinfo=dt.UTC)):
        assert dispatch_due_reports() == 0
    assert mail.outbox == []


def test_settings_page_validates_and_needs_an_admin(
    workspace: Workspace, client_for, owner, editor
):
    url = reverse("analytics:report_settings", args=[workspace.pk])
    assert client_for(editor).get(url).status_code == 403
    client = client_for(owner)
    assert client.get(url).status_code == 200

    bad = client.post(url, {"action": "schedule", "frequency": "weekly", "recipients": "nope"})
    assert bad.status_code == 400
    assert "“nope” is not an e-mail address." in bad.content.decode()
    assert 'value="nope"' in bad.content.decode()

    not_image = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png")
    bad_logo = client.post(
        url,
        {
            "action": "branding",
            "agency_name": "A",
            "primary_color": "#000000",
            "accent_color": "#ffffff",
            "logo": not_image,
        },
    )
    assert bad_logo.status_code == 400
    assert "PNG or JPEG" in bad_logo.content.decode()
    bad_color = client.post(
        url,
        {"action": "branding", "primary_color": "red;}", "accent_color": "#ffffff"},
    )
    assert bad_color.status_code == 400

    data = {"action": "schedule", "frequency": "monthly", "recipients": "a@example.com"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # same schedule again: no duplicate
    schedules = list(ReportSchedule.objects.for_workspace(workspace))
    assert len(schedules) == 1

    delete = reverse("analytics:report_schedule_delete", args=[workspace.pk, schedules[0].pk])
    assert client.post(delete).status_code == 302
    assert not ReportSchedule.objects.for_workspace(workspace).exists()


def test_addresses_pasted_from_a_mail_client_are_understood(
    workspace: Workspace, client_for, owner
):
    url = reverse("analytics:report_settings", args=[workspace.pk])
    pasted = (
        "Maria Lopez <Maria@Acme.com>, boss@acme.com; Li Wei <li@acme.com>\nops@acme.com x@acme.com"
    )
    response = client_for(owner).post(
        url, {"action": "schedule", "frequency": "weekly", "recipients": pasted}
    )
    assert response.status_code == 302
    schedule = ReportSchedule.objects.for_workspace(workspace).get()
    assert sorted(schedule.recipients) == [
        "boss@acme.com",
        "li@acme.com",
        "maria@acme.com",
        "ops@acme.com",
        "x@acme.com",
    ]


def test_a_resent_schedule_form_makes_one_schedule(workspace: Workspace, client_for, owner):
    """A double click (or a resend with the addresses edited in between) acts once."""
    url = reverse("analytics:report_settings", args=[workspace.pk])
    client = client_for(owner)
    page = client.get(url).content.decode()
    assert page.count('name="form_token"') == 2  # the schedule and the branding forms
    form = {"action": "schedule", "frequency": "weekly", "form_token": "t-1"}
    first = client.post(url, {**form, "recipients": "a@example.com"})
    again = client.post(url, {**form, "recipients": "a@example.com, b@example.com"})
    assert first.status_code == again.status_code == 302
    assert again["Idempotent-Replayed"] == "true"
    assert list(ReportSchedule.objects.unscoped().values_list("recipients", flat=True)) == [
        ["a@example.com"]
    ]


def test_client_reports_carry_the_agency_branding_unless_the_client_overrides_it(client_for):
    from accounts import agency_services
    from accounts.models import AgencyMember, Role
    from tests.factories import UserFactory

    boss = UserFactory.create(email="boss@northwind.test")
    agency = agency_services.agency_create(owner=boss, name="Northwind Social")
    actor = AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)
    acme = agency_services.agency_client_create(actor=actor, name="Acme", time_zone="UTC")
    client = client_for(boss)
    branding_url = reverse("accounts:agency_branding", args=[agency.pk])
    report_url = reverse("analytics:report", args=[acme.pk])
    settings_url = reverse("analytics:report_settings", args=[acme.pk])

    def report() -> str:
        page = client.get(report_url, PERIOD)
        assert page.status_code == 200
        return page.content.decode()

    # Before the agency sets anything: its name, the default colours, no logo.
    assert "prepared by Northwind Social" in report() and 'class="rp-logo"' not in report()
    refused = client.post(
        branding_url,
        {"primary_color": "#0055AA", "accent_color": "#ff9900", "logo": _png_bad()},
    )
    assert refused.status_code == 400 and "PNG or JPEG" in refused.content.decode()
    saved = client.post(
        branding_url, {"primary_color": "#0055AA", "accent_color": "#ff9900", "logo": _png()}
    )
    assert saved.status_code == 302
    html = report()
    assert "prepared by Northwind Social" in html
    assert "--rp-primary: #0055aa; --rp-accent: #ff9900" in html
    assert 'src="data:image/png;base64,' in html
    assert "carry Northwind Social's branding" in client.get(settings_url).content.decode()

    # The client's own branding wins; a first override keeps the agency's logo.
    override = client.post(
        settings_url,
        {
            "action": "branding",
            "agency_name": "Acme in-house",
            "primary_color": "#111111",
            "accent_color": "#222222",
        },
    )
    assert override.status_code == 302
    html = report()
    assert "prepared by Acme in-house" in html and "--rp-primary: #111111" in html
    assert 'src="data:image/png;base64,' in html
    # New agency colours do not reach a client with its own branding...
    client.post(branding_url, {"primary_color": "#333333", "accent_color": "#444444"})
    assert "--rp-primary: #111111" in report()
    # ...until it goes back to the agency's.
    assert client.post(settings_url, {"action": "branding_reset"}).status_code == 302
    html = report()
    assert "prepared by Northwind Social" in html and "--rp-primary: #333333" in html
    assert 'src="data:image/png;base64,' in html  # a save without a new logo keeps it


def _png_bad() -> SimpleUploadedFile:
    return SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png")


def test_pdf_draws_the_charts_in_the_branding_colours(workspace: Workspace, caplog) -> None:
    """WeasyPrint applies no page CSS inside an SVG: the charts carry their own paint."""
    seed_hand_computed(workspace)
    reporting.report_settings_update(
        workspace=workspace, agency_name="", primary_color="#0055aa", accent_color="#ff9900"
    )
    period = DateRange(start=dt.date(2026, 3, 14), end=dt.date(2026, 3, 20), key="custom")
    report = reports.report_build(workspace=workspace, period=period)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        drawn = _pdf_paints(reports.report_pdf(report))
    # The stylesheet holds nothing WeasyPrint ignores (SVG paint properties, media features).
    assert [record.getMessage() for record in caplog.records] == []
    without_charts = dataclasses.replace(
        report,
        views_chart=charts.bar_chart([], label="Video views", unit="views"),
        followers_chart=charts.line_chart([], label="Followers", unit="followers"),
    )
    chart_paints = drawn - _pdf_paints(reports.report_pdf(without_charts))

    # 6 measured days (Mar 17 is a gap): six bars in the agency's primary colour; the followers
    # line in two segments and its six points stroked in the accent colour, points white inside.
    assert chart_paints["fill", "#0055aa"] == 6
    assert chart_paints["stroke", "#ff9900"] == 2 + 6
    assert chart_paints["fill", "#ffffff"] == 6
    assert chart_paints["stroke", "#e3e6ef"] >= 5  # the light grid lines
    # SVG's default paint (black) shows when a style is ignored: bars and points came out black,
    # the line as a black-filled sliver.
    assert chart_paints["fill", "#000000"] == 0
