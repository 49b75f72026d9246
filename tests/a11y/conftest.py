"""The accessibility and layout sweep: one Chromium per test, a workspace with a bit of everything,
axe-core (vendored, see README.md) injected into each page, overflow measured at each width."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role, TikTokAccount, User, Workspace
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.factories import MembershipFactory, TikTokAccountFactory, UserFactory, WorkspaceFactory

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# The pages' strict CSP refuses inline scripts, so axe is served as a same-origin file that only
# the test browser's contexts answer (see signed_in); the product has no such URL.
AXE_URL = "/__a11y__/axe.min.js"
WIDTHS = (390, 768, 1440)
# Where the screenshots go, to be looked at by a person (kept out of the repository).
SHOTS = Path(os.environ.get("A11Y_SCREENSHOTS", "var/screenshots"))


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Findings:
    """Problems collected over a whole sweep, so that one run reports all of them."""

    problems: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def assert_none(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on a signed_in page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: "
                    + (n.failureSummary || "").split("\\n").slice(0, 2).join(" "))}));
        }"""
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


def overflow(page: Any) -> dict[str, Any] | None:
    """None when nothing scrolls sideways, else the width and the widest offenders."""
    return page.evaluate(
        """() => {
            const doc = document.documentElement;
            if (doc.scrollWidth <= window.innerWidth) return null;
            const wide = [];
            for (const el of document.querySelectorAll("body *")) {
                const r = el.getBoundingClientRect();
                if (r.right > window.innerWidth + 1 && r.width > 0) {
                    const name = (el.tagName + "." + el.className).slice(0, 80);
                    wide.push(name + " right=" + Math.round(r.right));
                }
            }
            return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
                    wide: wide.slice(0, 6)};
        }"""
    )


def small_targets(page: Any) -> list[str]:
    """Buttons, fields and menu items under 44 px on a phone (links inside text are exempt)."""
    return page.evaluate(
        """() => {
            const small = [];
            const targets = document.querySelectorAll(
                "button, .btn, select, summary, .nav a, .segmented a, .cal-day-pick, "
                + "input:not([type=checkbox]):not([type=radio]):not([type=hidden])"
                + ":not([type=range])");
            for (const el of targets) {
                const r = el.getBoundingClientRect();
                if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
                if (el.closest(".sidebar") && !document.querySelector(".nav-open")) continue;
                if (r.height < 43.5 || r.width < 43.5) {
                    const label = el.innerText || el.getAttribute("aria-label") || el.name;
                    const text = (label || "").trim();
                    small.push(el.tagName.toLowerCase() + " '" + text.slice(0, 30) + "' "
                        + Math.round(r.width) + "x" + Math.round(r.height));
                }
            }
            return small.slice(0, 8);
        }"""
    )


def check_page(page: Any, findings: Findings, name: str, width: int, *, axe: bool = True) -> None:
    page.wait_for_load_state("load")
    wide = overflow(page)
    if wide is not None:
        findings.add(f"{name} @{width}", "scrolls sideways " + json.dumps(wide))
    if width < 500:
        small = small_targets(page)
        if small:
            findings.add(f"{name} @{width}", "tap targets under 44 px: " + "; ".join(small))
    if axe:
        for v in axe_violations(page):
            findings.add(
                f"{name} @{width}", f"axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}"
            )
    shot = SHOTS / str(width) / f"{name}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)


@dataclass
class FullWorkspace:
    workspace: Workspace
    owner: User
    account: TikTokAccount
    seeded: dict[str, Any]


def make_full_workspace() -> FullWorkspace:
    """A workspace with an account, posts in several states, a video, a comment, analytics."""
    from calendar_app.models import Post, PostStatus
    from tests.e2e.helpers import seed_client

    owner = UserFactory.create(email="a11y-owner@example.com")
    workspace = WorkspaceFactory.create(name="Corner Café", time_zone="Europe/Paris")
    MembershipFactory.create(workspace=workspace, user=owner, role=Role.OWNER)
    for role in (Role.EDITOR, Role.VIEWER):
        MembershipFactory.create(workspace=workspace, user=UserFactory.create(), role=role)
    account = TikTokAccountFactory.create(
        workspace=workspace,
        username="corner.cafe",
        display_name="Corner Café",
        color="#25c2d9",
        access_token_expires_at=timezone.now() + dt.timedelta(hours=20),
        refresh_token_expires_at=timezone.now() + dt.timedelta(days=300),
    )
    seeded = seed_client(workspace, account, label="Latte", scheduled_in=dt.timedelta(days=1))
    media = seeded["scheduled"].media
    # A busy day (more posts than a month cell shows), a failed post and a draft to plan.
    busy = timezone.now() + dt.timedelta(days=2)
    for index, status in enumerate(
        [PostStatus.SCHEDULED, PostStatus.SCHEDULED, PostStatus.FAILED, PostStatus.SCHEDULED]
    ):
        when = busy.replace(hour=8 + index * 2, minute=15)
        Post.objects.create(
            workspace=workspace,
            account=account,
            media=media,
            caption=f"Busy day post {index} with a rather long caption #coffee #morning",
            privacy_level="PUBLIC_TO_EVERYONE",
            status=status,
            scheduled_at=when,
            scheduled_local=when.astimezone(workspace.tz).strftime("%Y-%m-%dT%H:%M"),
            scheduled_tz=workspace.time_zone,
        )
    Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption="Draft idea: latte art challenge",
        status=PostStatus.DRAFT,
    )
    # Two photos, so the composer shows its carousel picker.
    from tests.calendar_app.factories import MediaAssetFactory

    for name in ("menu-1.jpg", "menu-2.webp"):
        MediaAssetFactory.create(
            workspace=workspace,
            kind="image",
            content_type="image/jpeg",
            original_name=name,
            duration_seconds=None,
        )
    # The planner: a day note, posting slots (free ones show in the week), a template, a
    # hashtag group and a previewed CSV import with a good and a bad row.
    from calendar_app.models import CalendarNote, CaptionTemplate, HashtagGroup, PostImport
    from calendar_app.queue import SlotTime, slots_replace

    CalendarNote.objects.create(
        workspace=workspace, day=busy.astimezone(workspace.tz).date(), text="Coffee week launch"
    )
    slots_replace(
        workspace=workspace,
        account=account,
        slots=[SlotTime(d, dt.time(9, 30)) for d in range(7)],
    )
    CaptionTemplate.objects.create(workspace=workspace, name="Weekly drop", body="New drop! ☕")
    HashtagGroup.objects.create(workspace=workspace, name="Coffee", hashtags="#coffee #latte")
    seeded["post_import"] = PostImport.objects.create(
        workspace=workspace,
        file_name="plan.csv",
        rows=[
            {
                "line": 2,
                "values": {"account": "corner.cafe", "date": "", "time": "", "caption": "Idea"},
            },
            {"line": 3, "values": {"account": "nobody", "date": "", "time": "", "caption": "?"}},
        ],
        result=[
            {
                "line": 2,
                "status": "ok",
                "message": "",
                "code": "",
                "post_id": "",
                "summary": "Draft for Corner Café · unscheduled",
            },
            {
                "line": 3,
                "status": "error",
                "message": "No connected account “nobody” in this workspace.",
                "code": "account_not_found",
                "post_id": "",
                "summary": "",
            },
        ],
    )
    from accounts.services import notification_notify_members

    notification_notify_members(
        workspace=workspace,
        kind="post_failed",
        title="A post failed to publish",
        body="TikTok refused the video: it is shorter than 3 seconds.",
        url=f"/w/{workspace.id}/calendar/",
    )
    return FullWorkspace(workspace=workspace, owner=owner, account=account, seeded=seeded)


@pytest.fixture
def full(transactional_db: None) -> FullWorkspace:
    return make_full_workspace()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text()


@pytest.fixture
def signed_in(chromium: Any, live_server: Any, axe_source: str) -> Iterator[Any]:
    """signed_in(user, width) -> a page of that width in a fresh context signed in as user."""
    contexts: list[Any] = []

    def make(user: User | None, width: int, **options: Any) -> Any:
        # The audit reads the page at rest: with motion reduced the stylesheet drops its
        # transitions, so a menu is checked where it ends up, never halfway through sliding in.
        options.setdefault("reduced_motion", "reduce")
        context = chromium.new_context(
            viewport={"width": width, "height": 900 if width > 500 else 844},
            timezone_id="Europe/Paris",
            **options,
        )
        contexts.append(context)
        # Routed before the context has a page, so no audit can run ahead of the route.
        context.route(
            "**" + AXE_URL,
            lambda route: route.fulfill(body=axe_source, content_type="text/javascript"),
        )
        if user is not None:
            sign_in(context, user=user, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()
