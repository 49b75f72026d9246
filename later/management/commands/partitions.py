"""`manage.py partitions`: monthly partitioning of the snapshot and comment tables
(settings.PARTITIONED_TABLES, docs/scaling.md).

manage.py partitions                       # status of every partitionable table
manage.py partitions switch TABLE [--boundary 2027-03] [--months 3]
manage.py partitions ahead [--months 3]    # what the daily beat task does
manage.py partitions switch-off TABLE      # back to one table (locks it while rows move)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from later.partitions import (
    AHEAD_MONTHS,
    PartitionError,
    default_boundary,
    is_partitioned,
    partitioned_tables,
    partitions_create_ahead,
    partitions_of,
    partitions_switch,
    partitions_switch_off,
    table_named,
)


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"--boundary takes a month as YYYY-MM, not {value!r}") from exc


class Command(BaseCommand):
    help = "Monthly partitions of large tables: status, switch on online, create ahead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            nargs="?",
            default="status",
            choices=["status", "switch", "ahead", "switch-off"],
        )
        parser.add_argument("table", nargs="?", help="table (or model) name; switch: required")
        parser.add_argument("--boundary", type=_month, help="first partitioned month, YYYY-MM")
        parser.add_argument("--months", type=int, default=AHEAD_MONTHS)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "status":
                self._status()
            elif action == "ahead":
                created = partitions_create_ahead(months=options["months"])
                self.stdout.write(f"{len(created)} partition(s) ensured: {', '.join(created)}")
            else:
                if not options["table"]:
                    known = ", ".join(t.table for t in partitioned_tables())
                    raise CommandError(f"{action} needs a table: {known}")
                spec = table_named(options["table"])
                if action == "switch":
                    boundary = options["boundary"] or default_boundary()
                    held = partitions_switch(spec=spec, boundary=boundary, months=options["months"])
                    self.stdout.write(
                        f"{spec.table}: partitioned by month from {boundary:%Y-%m} "
                        f"(the swap held its lock {held * 1000:.0f} ms)"
                        if held is not None
                        else f"{spec.table}: already partitioned"
                    )
                else:
                    done = partitions_switch_off(spec=spec)
                    self.stdout.write(
                        f"{spec.table}: {'one table again' if done else 'not partitioned'}"
                    )
        except PartitionError as exc:
            raise CommandError(str(exc)) from exc

    def _status(self) -> None:
        for spec in partitioned_tables():
            if is_partitioned(spec):
                names = partitions_of(spec)
                self.stdout.write(f"{spec.table}: partitioned on {spec.key}: {', '.join(names)}")
            else:
                self.stdout.write(f"{spec.table}: one table (not partitioned)")
