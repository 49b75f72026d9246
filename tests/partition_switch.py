"""Switching a table to partitions while another connection keeps writing (shared by the
snapshot and comment partition tests)."""

from __future__ import annotations

import threading
from io import StringIO
from typing import Any

from django.core.management import call_command


def switch_while_writing(writer: Any, table: str, *, months: int = 2) -> str:
    """Start `writer` (a thread with `stored`, `errors` and a `stop` event), wait until its
    writes flow, run `partitions switch <table>`, wait until 20 more writes went through, then
    stop it. Returns the command's output."""
    writer.start()
    try:
        while len(writer.stored) < 20 and not writer.errors:  # writes are flowing
            threading.Event().wait(0.01)
        out = StringIO()
        call_command("partitions", "switch", table, "--months", str(months), stdout=out)
        during = len(writer.stored)
        while len(writer.stored) < during + 20 and not writer.errors:  # and flow on after
            threading.Event().wait(0.01)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    return out.getvalue()
