"""Writes for client reports: branding, schedules, and sending each period exactly once.

A period goes out once because its `ReportDelivery` row (unique per schedule and period) is
created by the dispatcher and then *claimed* by a conditional UPDATE before anything is sent.
A restarted beat or worker finds the row already claimed or sent and does nothing. A worker
that dies between claiming and finishing leaves the row "sending": it is not sent again
(the e-mail may have left), and the settings page shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.branding import color_errors, read_logo
from accounts.models import TikTokAccount, Workspace
from analytics.models import (
    DeliveryStatus,
    ReportDelivery,
    ReportFrequency,
    ReportSchedule,
    ReportSettings,
)
from analytics.reports import (
    last_complete_period,
    report_build,
    report_html,
    report_pdf,
    report_settings_get,
)
from later.errors import ValidationFailed

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
MAX_ATTEMPTS = 3


def report_settings_update(
    *,
    workspace: Workspace,
    agency_name: str,
    primary_color: str,
    accent_color: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> ReportSettings:
    """The workspace's own branding, which overrides its agency's from now on. A first override
    starts from the agency's logo, so saving new colours does not drop it."""
    errors = color_errors(primary_color=primary_color, accent_color=accent_color)
    if len(agency_name) > 120:
        errors["agency_name"] = "Keep the agency name under 120 characters."
    logo_bytes, logo_type = b"", ""
    if logo is not None:
        logo_bytes, logo_type, problem = read_logo(logo)
        if problem:
            errors["logo"] = problem
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    inherited = report_settings_get(workspace=workspace)
    with transaction.atomic():
        row, created = ReportSettings.objects.for_workspace(workspace).get_or_create(
            workspace=workspace
        )
        if created and inherited.source == "agency":
            row.logo, row.logo_content_type = inherited.logo, inherited.logo_content_type
        row.agency_name = agency_name.strip()
        row.primary_color = primary_color.lower()
        row.accent_color = accent_color.lower()
        if logo is not None:
            row.logo, row.logo_content_type = logo_bytes, logo_type
        elif remove_logo:
            row.logo, row.logo_content_type = b"", ""
        row.save()
    return row


def report_settings_reset(*, workspace: Workspace) -> None:
    """Drop the workspace's own branding: its reports carry its agency's again."""
    ReportSettings.objects.for_workspace(workspace).delete()


def recipients_from_text(text: str) -> list[str]:
    """The addresses in what a person typed or pasted: separated by commas, semicolons, line
    breaks or spaces, each bare or as a mail client copies it (`Maria Lopez <maria@acme.com>`)."""
    found: list[str] = []
    for part in re.split(r"[,;\n]+", text):
        bracketed = re.search(r"<([^<>]*)>", part)
        found.extend([bracketed.group(1)] if bracketed else part.split())
    return found


def _recipients(raw: Iterable[str]) -> list[str]:
    found: list[str] = []
    for address in raw:
        address = address.strip().lower()
        if not address or address in found:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationFailed(f"“{address}” is not an e-mail address.") from exc
        found.append(address)
    if not found:
        raise ValidationFailed("Give at least one e-mail address to send the report to.")
    if len(found) > MAX_RECIPIENTS:
        raise ValidationFailed(f"A report goes to at most {MAX_RECIPIENTS} addresses.")
    return found


def report_schedule_create(
    *,
    workspace: Workspace,
    frequency: str,
    recipients: Iterable[str],
    account: TikTokAccount | None = None,
) -> ReportSchedule:
    """Idempotent: the same frequency, addresses and account give back the active schedule."""
    if frequency not in ReportFrequency.values:
        raise ValidationFailed("Choose a weekly or a monthly report.")
    addresses = sorted(_recipients(recipients))
    with transaction.atomic():
        existing = (
            ReportSchedule.objects.for_workspace(workspace)
            .select_for_update()
            .filter(frequency=frequency, account=account, active=True, recipients=addresses)
            .first()
        )
        if existing is not None:
            return existing
        return ReportSchedule.objects.create(
            workspace=workspace,
            frequency=frequency,
            recipients=addresses,
            account=account,
            starts_at=timezone.now(),
        )


def report_schedule_delete(*, schedule: ReportSchedule) -> None:
    schedule.delete()


def reports_dispatch_due(*, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Create the delivery row of every finished period, once; return what to send.

    Returns (workspace_id, delivery_id) of every delivery still waiting (new, or failed with
    attempts left): enqueuing one twice is harmless, the send claims it first.
    """
    now = now or timezone.now()
    schedules = ReportSchedule.objects.unscoped().filter(active=True).select_related("workspace")
    for schedule in schedules:
        today = now.astimezone(schedule.workspace.tz).date()
        period = last_complete_period(frequency=schedule.frequency, today=today)
        if period.end < schedule.starts_at.astimezone(schedule.workspace.tz).date():
            continue  # finished before the schedule existed: not owed
        try:
            with transaction.atomic():
                ReportDelivery.objects.create(
                    workspace_id=schedule.workspace_id,
                    schedule=schedule,
                    period_start=period.start,
                    period_end=period.end,
                )
        except IntegrityError:
            pass  # this period's row exists: it is being sent or was sent
    waiting = ReportDelivery.objects.unscoped().filter(
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.FAILED, attempts__lt=MAX_ATTEMPTS),
        schedule__active=True,
    )
    return [(str(ws), str(pk)) for ws, pk in waiting.values_list("workspace_id", "pk")]


def _claim(*, workspace: Workspace, delivery_id: str) -> bool:
    claimed = (
        ReportDelivery.objects.for_workspace(workspace)
        .filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.FAILED, attempts__lt=MAX_ATTEMPTS),
            pk=delivery_id,
        )
        .update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=timezone.now(),
            error="",
        )
    )
    return claimed == 1


def report_delivery_send(*, workspace: Workspace, delivery_id: str) -> bool:
    """Claim the delivery, then render and e-mail it. False when someone else had it."""
    if not _claim(workspace=workspace, delivery_id=delivery_id):
        return False
    delivery = (
        ReportDelivery.objects.for_workspace(workspace)
        .select_related("schedule", "schedule__account")
        .get(pk=delivery_id)
    )
    schedule = delivery.schedule
    try:
        from analytics.selectors import DateRange

        report = report_build(
            workspace=workspace,
            period=DateRange(start=delivery.period_start, end=delivery.period_end, key="custom"),
            account=schedule.account,
        )
        subject = (
            f"{report.title}: {delivery.period_start:%b} {delivery.period_start.day}"
            f" to {delivery.period_end:%b} {delivery.period_end.day}, {delivery.period_end.year}"
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=(
                f"Your {schedule.get_frequency_display().split(' ')[0].lower()} TikTok report "
                f"for {workspace.name} is attached as a PDF."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(schedule.recipients),
        )
        message.attach_alternative(report_html(report, standalone=True), "text/html")
        message.attach(
            f"tiktok-report-{delivery.period_start}-{delivery.period_end}.pdf",
            report_pdf(report),
            "application/pdf",
        )
        message.send()
    except Exception as exc:
        logger.exception("report delivery %s failed", delivery_id)
        status = (
            DeliveryStatus.GAVE_UP if delivery.attempts >= MAX_ATTEMPTS else DeliveryStatus.FAILED
        )
        ReportDelivery.objects.for_workspace(workspace).filter(pk=delivery_id).update(
            status=status, error=str(exc)[:500]
        )
        return False
    ReportDelivery.objects.for_workspace(workspace).filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    return True
