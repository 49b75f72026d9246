"""Run a long command quietly: its whole output goes to a log file, the terminal gets one
progress line (a count of matching output lines) and, on failure, the end of the log.

Standard library only: `make install` runs it with the system Python before the virtualenv
exists, as a script (`python later/quietly.py ...`), so it must not import the project.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import deque
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True, help="file that receives the whole output")
    parser.add_argument("--label", required=True, help="what the step does, shown to the person")
    parser.add_argument("--count", default="", help="regex: matching output lines are counted")
    parser.add_argument("--unit", default="", help="what the counted lines are, e.g. packages")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(args.count) if args.count else None
    live = sys.stdout.isatty()
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=30)
    count = 0
    if not live:
        print(f"  {args.label}… (log: {log})", flush=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            tail.append(line.rstrip())
            if pattern and pattern.search(line):
                count += 1
                if live:
                    unit = f" {count} {args.unit}".rstrip() if args.unit else f" {count}"
                    elapsed = int(time.monotonic() - started)
                    print(f"\r\033[K  {args.label}…{unit} ({elapsed}s)", end="", flush=True)
        code = proc.wait()
    elapsed = int(time.monotonic() - started)
    if live:
        print("\r\033[K", end="")
    if code:
        print(f"  ✗ {args.label} failed (exit {code}); the end of {log}:", flush=True)
        for line in tail:
            print(f"    {line}")
        return code
    done = f", {count} {args.unit}" if args.unit and count else ""
    print(f"  ✓ {args.label} ({elapsed}s{done}; log: {log})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
