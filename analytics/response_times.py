"""Response times in the overview: Conversations computes them (per account, for the period)
through the function `settings.ANALYTICS_RESPONSE_TIMES` names; analytics only shows them, and
leaves the section out while the setting is empty or the period has no comment threads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import TikTokAccount, Workspace
from analytics.reports import duration_display
from analytics.selectors import DateRange


@dataclass(frozen=True)
class SpeedRow:
    name: str
    threads: int
    answered: int
    median: str
    p90: str
    questions: int
    questions_answered: int
    # Whole percent of questions answered; None without questions.
    questions_answered_percent: int | None
    unanswered_over_24h: int

    @classmethod
    def of(cls, name: str, figures: Any) -> SpeedRow:
        questions = int(figures.questions)
        answered = int(figures.questions_answered)
        return cls(
            name=name,
            threads=int(figures.threads),
            answered=int(figures.answered),
            median=duration_display(figures.median_seconds),
            p90=duration_display(figures.p90_seconds),
            questions=questions,
            questions_answered=answered,
            questions_answered_percent=round(100 * answered / questions) if questions else None,
            unanswered_over_24h=int(figures.unanswered_questions_over_24h),
        )


@dataclass(frozen=True)
class ResponseTimesSection:
    overall: SpeedRow
    by_account: list[SpeedRow]
    page_url: str
    csv_url: str


def overview_response_times(
    *, workspace: Workspace, period: DateRange, account: TikTokAccount | None
) -> ResponseTimesSection | None:
    path = getattr(settings, "ANALYTICS_RESPONSE_TIMES", "")
    if not path:
        return None
    figures_of = import_string(path)
    tz = workspace.tz
    found = figures_of(
        workspace=workspace,
        since=dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
        until=dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        account_id=account.pk if account is not None else None,
    )
    if found is None:
        return None
    return ResponseTimesSection(
        overall=SpeedRow.of("All accounts", found.overall),
        by_account=[SpeedRow.of(row.name, row.figures) for row in found.by_account],
        page_url=found.page_url,
        csv_url=found.csv_url,
    )
