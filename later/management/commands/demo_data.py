"""Fill the demo workspaces from the running TikTok simulator, through the product's own paths.

Accounts are connected by driving the real OAuth flow against the simulator (start, consent,
callback), then analytics are backfilled, videos and comments synced, demo videos uploaded to
the media library and a week of posts scheduled (one due in about a minute, so the quick start
shows a post going out). Safe to run at every start: connections update in place and posts and
media are only created once.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.access import membership_resolve
from accounts.models import Membership, TikTokAccount, User, Workspace
from later.management.commands.demo_setup import DEMO_EMAIL, DEMO_WORKSPACES
from tiktok_client.errors import TikTokRateLimited

DEMO_SESSION = "demo-data-session"
# Which simulator creators each demo workspace connects, with their calendar colour.
DEMO_ACCOUNTS: dict[str, list[tuple[str, str]]] = {
    DEMO_WORKSPACES[0][0]: [("sim-cafe-business", "#fe2c55"), ("sim-ava-public", "#25c2d9")],
    DEMO_WORKSPACES[1][0]: [("sim-dance-business", "#7c3aed"), ("sim-quiet-chef", "#f79009")],
    DEMO_WORKSPACES[2][0]: [("sim-tiny-bakery", "#12b76a")],
}
# Each creator's captions fit its persona (the simulator's bios): a café, a recipe and studio
# vlogger, a dance studio, a one-minute-recipe chef and a bakery that just opened.
DEMO_CAPTIONS: dict[str, list[str]] = {
    "sim-cafe-business": [
        "Monday latte art 🎨 #coffee #latteart",
        "Behind the bar: how we dial in espresso ☕ #barista",
        "New seasonal menu drop 🍂 #newmenu",
        "Customer of the week! #community #coffeeshop",
    ],
    "sim-ava-public": [
        "This week's recipe: one-pan lemon orzo 🍋 #recipe #weeknightdinner",
        "Studio vlog: repainting the kitchen set 🎨 #vlog #studio",
        "Sunday reset: prepping lunches for the week #mealprep",
    ],
    "sim-dance-business": [
        "Beginner hip-hop class: the first 8 counts 💃 #dance #hiphop",
        "Saturday showcase rehearsal, all levels welcome #dancestudio",
        "Stretch with us: 60 seconds before every class #flexibility",
    ],
    "sim-quiet-chef": [
        "One-minute carbonara, no cream 🍝 #recipe #oneminute",
        "Knife skills: dice an onion in 20 seconds 🔪 #cookingtips",
        "Crispy rice, leftover style #zerowaste #quickrecipe",
    ],
    "sim-tiny-bakery": [
        "Saturday sourdough, fresh out of the oven 🍞 #sourdough #bakery",
        "Shaping 40 loaves before sunrise #bakerlife",
        "We just opened! Come say hi 👋 #smallbusiness #newbakery",
    ],
}
# The demo videos of each workspace, named for what it posts.
DEMO_VIDEOS: dict[str, list[str]] = {
    DEMO_WORKSPACES[0][0]: ["latte-art.mp4", "espresso-pour.mp4"],
    DEMO_WORKSPACES[1][0]: ["dance-class.mp4", "one-minute-recipe.mp4"],
    DEMO_WORKSPACES[2][0]: ["sourdough.mp4", "morning-bake.mp4"],
}
DRAFT_IDEAS = {
    DEMO_WORKSPACES[0][0]: "Draft idea: latte art challenge 🤔",
    DEMO_WORKSPACES[1][0]: "Draft idea: chef vs. dancer, who plates faster? 🤔",
    DEMO_WORKSPACES[2][0]: "Draft idea: guess the weight of the giant loaf 🤔",
}


class Command(BaseCommand):
    help = "Connect simulator creators to the demo workspaces and fill them with demo data."

    def handle(self, *args: Any, **opts: Any) -> None:
        base = settings.TIKTOK_OPEN_API_BASE_URL.rstrip("/")
        self._wait_for_simulator(base)
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            raise CommandError("Run `manage.py demo_setup` first.")
        for workspace_name, creators in DEMO_ACCOUNTS.items():
            workspace = Workspace.objects.filter(name=workspace_name).first()
            if workspace is None:
                continue
            # The agency's clients are reached through the agency, not a membership row.
            membership = membership_resolve(user=user, workspace_id=workspace.pk)
            accounts = [
                self._connect(base, workspace, membership, user, open_id, color)
                for open_id, color in creators
            ]
            for account in accounts:
                self._history(account)
            self._calendar(workspace, user, accounts)
            self.stdout.write(f"Demo data ready in “{workspace.name}”.")

    def _wait_for_simulator(self, base: str) -> None:
        for _ in range(50):
            try:
                if httpx.get(f"{base}/_sim/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise CommandError(f"The TikTok simulator is not answering at {base}.")

    def _connect(
        self,
        base: str,
        workspace: Workspace,
        membership: Membership,
        user: User,
        open_id: str,
        color: str,
    ) -> TikTokAccount:
        from accounts.tiktok.business import tiktok_business_connect_complete
        from accounts.tiktok.connection import tiktok_connect_complete, tiktok_connect_start

        # The one Connect button: Login Kit consent, then (a Business app being configured)
        # the Business consent, each answered on the simulator's consent page as a user would.
        authorize_url = tiktok_connect_start(
            workspace=workspace, membership=membership, session_key=DEMO_SESSION
        )
        callback = self._consent(base, authorize_url, open_id)
        outcome = tiktok_connect_complete(
            user=user, session_key=DEMO_SESSION, state=callback["state"], code=callback["code"]
        )
        account = outcome.account
        if outcome.business_authorize_url:
            callback = self._consent(base, outcome.business_authorize_url, open_id)
            account = tiktok_business_connect_complete(
                user=user,
                session_key=DEMO_SESSION,
                state=callback["state"],
                code=callback.get("code") or callback.get("auth_code", ""),
            ).account
        account.color = color
        account.save(update_fields=["color", "updated_at"])
        self.stdout.write(f"  connected {account.handle}")
        return account

    def _consent(self, base: str, authorize_url: str, open_id: str) -> dict[str, str]:
        form = dict(parse_qsl(urlsplit(authorize_url).query))
        form["open_id"] = open_id
        consent = httpx.post(f"{base}/v2/auth/authorize/", data=form, timeout=10)
        callback = dict(parse_qsl(urlsplit(consent.headers.get("location", "")).query))
        if "code" not in callback and "auth_code" not in callback:
            raise CommandError(f"The simulator refused to connect {open_id}: {consent.text[:200]}")
        return callback

    def _history(self, account: TikTokAccount) -> None:
        from analytics.services import account_backfill, account_snapshot_capture

        try:
            account_backfill(account=account)
        except Exception as exc:  # a demo keeps going without one report
            self.stderr.write(f"  analytics backfill of {account.handle} skipped: {exc}")
        account_snapshot_capture(account=account)
        from conversations.sync import account_can_sync_comments, comment_sync_account

        try:
            if account_can_sync_comments(account):
                comment_sync_account(account=account)
        except TikTokRateLimited:
            pass  # the per-run budget ran out; the periodic sync picks up where this stopped

    def _calendar(self, workspace: Workspace, user: User, accounts: list[TikTokAccount]) -> None:
        from calendar_app.models import MediaAsset, Post
        from calendar_app.services import PostContent, PostTarget, media_upload, post_create

        media = list(MediaAsset.objects.for_workspace(workspace).order_by("created_at"))
        if not media:
            names = DEMO_VIDEOS.get(workspace.name, ["clip-1.mp4", "clip-2.mp4"])
            for index, (name, pattern) in enumerate(
                zip(names, ["testsrc2", "smptebars"], strict=False)
            ):
                path = _demo_video(pattern, seconds=4 + index)
                with path.open("rb") as fh:
                    media.append(
                        media_upload(
                            workspace=workspace, user=user, upload=File(fh), original_name=name
                        )
                    )
        if Post.objects.for_workspace(workspace).exists():
            return
        tz = workspace.tz
        now_local = timezone.now().astimezone(tz)
        slots = [now_local + timedelta(seconds=75)] + [
            (now_local + timedelta(days=d)).replace(hour=h, minute=m, second=0, microsecond=0)
            for d, h, m in [(1, 9, 30), (2, 12, 0), (3, 18, 15), (5, 8, 0), (6, 17, 45)]
        ]
        for index, when in enumerate(slots):
            account = accounts[index % len(accounts)]
            local = when.replace(tzinfo=None)
            if index == 0:
                # Minute precision: the first demo post goes out a minute or two after start.
                local = (when + timedelta(minutes=1)).replace(tzinfo=None)
            captions = DEMO_CAPTIONS.get(account.open_id) or ["New post"]
            content = PostContent(
                caption=captions[(index // len(accounts)) % len(captions)],
                media_id=media[index % len(media)].id,
                scheduled_local=local,
                scheduled_tz=workspace.time_zone,
            )
            target = PostTarget(account_id=account.id, privacy_level="SELF_ONLY")
            try:
                post_create(
                    workspace=workspace,
                    user=user,
                    content=content,
                    targets=[target],
                    schedule=True,
                    acknowledge_warnings=True,
                )
            except Exception as exc:  # show why and keep filling the calendar
                self.stderr.write(f"  could not schedule demo post {index}: {exc}")
        post_create(
            workspace=workspace,
            user=user,
            content=PostContent(
                caption=DRAFT_IDEAS.get(workspace.name, "Draft idea 🤔"), media_id=media[0].id
            ),
            targets=[PostTarget(account_id=accounts[0].id)],
            schedule=False,
        )


def _demo_video(pattern: str, *, seconds: int) -> Path:
    """A small vertical H.264 clip made with the ffmpeg binary that imageio-ffmpeg ships."""
    import imageio_ffmpeg

    out = Path(tempfile.gettempdir()) / f"later-demo-{pattern}-{seconds}.mp4"
    if not out.exists():
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", f"{pattern}=size=720x1280:rate=30",
                "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out),
            ],
            check=True,
        )  # fmt: skip
    return out
