"""Run every benchmark in bench/ and print one table of figures beside their same-run ceilings.

    .venv/bin/python bench/run_all.py            # all benchmarks
    .venv/bin/python bench/run_all.py calendar   # only those whose file name contains "calendar"

Needs PostgreSQL and Redis on localhost (as the tests do). Each benchmark is bounded in time.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_SECONDS = int(os.environ.get("BENCH_TIMEOUT", "600"))


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def main() -> int:
    selector = sys.argv[1] if len(sys.argv) > 1 else ""
    scripts = sorted(
        p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != "run_all.py"
    )
    scripts = [p for p in scripts if selector in p.name]
    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, str(script)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                cwd=HERE.parent,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{script.name}: timed out after {TIMEOUT_SECONDS}s")
            continue
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH "):
                row = json.loads(line[6:])
                row["script"] = script.name
                rows.append(row)
            else:
                print("   " + line)
        if proc.returncode != 0:
            failures.append(f"{script.name}: exit {proc.returncode}: {proc.stderr.strip()[-800:]}")
        print(f"   ({time.monotonic() - started:.0f}s)", flush=True)

    print()
    print(f"Machine: {machine()}")
    print()
    print("| benchmark | figure | ceiling / baseline (same run) | ratio | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['name']} | {r['value']} {r['unit']} | {r['baseline']}: {r['baseline_value']} "
            f"{r['unit']} | {r['ratio']} | {r.get('note', '')} |"
        )
    for f in failures:
        print(f"FAILED {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
