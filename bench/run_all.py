"""Run every benchmark in bench/ and print one table of figures beside their same-run ceilings.

    .venv/bin/python bench/run_all.py            # all benchmarks
    .venv/bin/python bench/run_all.py calendar   # only those whose file name contains "calendar"

Needs PostgreSQL and Redis on localhost (as the tests do). Each benchmark is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
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
        # Each script runs in its own process group: on a timeout the whole group goes (the
        # workers, web servers and simulators it started), not only the script itself.
        child = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
            start_new_session=True,
        )
        try:
            stdout, stderr = child.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            failures.append(f"{script.name}: timed out after {TIMEOUT_SECONDS}s")
            continue
        proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # anything the script left behind
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
