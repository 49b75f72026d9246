"""Guard: nothing waits in the broker (docs/style.md, "Celery and publishing").

A delayed Celery message (`countdown=`, `eta=`, `self.retry(...)`, automatic retries) waits in
Redis, where the visibility timeout delivers it twice and a restart loses it. PostgreSQL holds
every "when": the publishing dispatcher's rows and later/retries.py's parked tries."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRODUCT = ("accounts", "analytics", "calendar_app", "conversations", "later", "tiktok_client")
# Keywords that make Celery delay a message or retry through the broker.
FORBIDDEN_KEYWORDS = {
    "countdown",
    "eta",
    "autoretry_for",
    "retry_backoff",
    "default_retry_delay",
}


def _offences(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{path.relative_to(root)}:{node.lineno}"
        for keyword in node.keywords:
            if keyword.arg in FORBIDDEN_KEYWORDS:
                found.append(f"{where} passes {keyword.arg}=")
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "retry":
            found.append(f"{where} calls .retry() (a countdown message in the broker)")
    return found


def _product_files() -> list[Path]:
    files = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.parts:
                files.append(path)
    return files


def test_no_product_code_makes_celery_wait_in_the_broker() -> None:
    files = _product_files()
    assert len(files) > 100  # the scan sees the product
    offences = [o for path in files for o in _offences(path)]
    assert offences == [], "\n".join(offences)


def test_the_guard_catches_each_way_of_waiting_in_the_broker(tmp_path: Path) -> None:
    sample = tmp_path / "tasks.py"
    sample.write_text(
        "def f(task, self, when):\n"
        "    task.apply_async(args=(1,), countdown=30)\n"
        "    task.apply_async(args=(1,), eta=when)\n"
        "    task.s(1).set(countdown=5)\n"
        "    raise self.retry(exc=None)\n",
        encoding="utf-8",
    )
    offences = _offences(sample, tmp_path)
    assert len(offences) == 4, offences
