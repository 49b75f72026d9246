"""Fixtures for the conversations tests: a threaded simulator, a connected business account
holding real simulator tokens, and TikTokVideo rows for the simulator's seeded videos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from accounts.tiktok import get_tiktok_client
from accounts.tiktok.access import tiktok_business_call
from conversations.sync import BUDGET_FAMILY, CallBudget
from tests.simulator import account_with_simulator_tokens, running_simulator
from tiktok_client.ratelimit import InMemoryRateLimiter
from tiktok_client.simulator import SimulatorApp

BUSINESS = "/open_api/v1.3/business"
LIST_PATH = f"{BUSINESS}/comment/list/"
REPLIES_PATH = f"{BUSINESS}/comment/reply/list/"
REPLY_CREATE_PATH = f"{BUSINESS}/comment/reply/create/"
HIDE_PATH = f"{BUSINESS}/comment/hide/"
DELETE_PATH = f"{BUSINESS}/comment/delete/"
BUSINESS_SCOPES = (
    "user.info.basic",
    "video.list",
    "video.insights",
    "comment.list",
    "comment.list.manage",
)


@dataclass
class CommentSim:
    app: SimulatorApp
    base_url: str

    @property
    def state(self):
        return self.app.state

    def calls(self, path: str) -> int:
        return int(self.app.counters.requests_to(path))

    def fault(self, path: str, kind: str, count: int = 1) -> None:
        self.app.faults.add(path, kind, count=count)

    def fan_comment(self, video_id: str, text: str, parent: str | None = None) -> str:
        with self.state.lock:
            video = self.state.videos[video_id]
            return str(
                self.state.add_comment(
                    video=video, text=text, parent_id=parent, by_owner=False
                ).comment_id
            )

    def visible_comments(self, video_id: str) -> int:
        with self.state.lock:
            self.state.materialize_comments(self.state.videos[video_id])
            return int(self.state.visible_comment_count(video_id))


@pytest.fixture
def csim(settings) -> Iterator[CommentSim]:
    # Per-process limiter: tests must not share budgets through Redis.
    settings.REDIS_URL = ""
    cache.clear()
    with running_simulator(settings) as (app, base_url):
        yield CommentSim(app, base_url)


def connect_business_account(
    sim: CommentSim,
    workspace: Workspace,
    *,
    open_id: str = "sim-dance-business",
    username: str = "dance.studio",
    scopes: tuple[str, ...] = BUSINESS_SCOPES,
) -> TikTokAccount:
    return account_with_simulator_tokens(
        sim.app,
        workspace,
        open_id=open_id,
        scopes=scopes,
        account_type=AccountType.BUSINESS,
        username=username,
        display_name=username.replace(".", " ").title(),
    )


def seed_videos(account: TikTokAccount, *, limit: int = 2, skip: int = 0) -> list[TikTokVideo]:
    """TikTokVideo rows for the account's newest seeded videos, read through the client."""
    client = get_tiktok_client()
    page = tiktok_business_call(
        account=account,
        call=lambda token: client.business_list_videos(
            access_token=token, business_id=account.business_id, max_count=20
        ),
    )
    rows = []
    for video in page.videos[skip : skip + limit]:
        assert video.create_time is not None  # the simulator dates every video
        rows.append(
            TikTokVideo.objects.create(
                workspace=account.workspace,
                account=account,
                video_id=video.item_id,
                caption=video.caption or "",
                cover_image_url=video.thumbnail_url or "",
                posted_at=dt.datetime.fromtimestamp(video.create_time, tz=dt.UTC),
            )
        )
    return rows


def roomy_budget(account: TikTokAccount, max_calls: int = 500) -> CallBudget:
    return CallBudget(
        account=account,
        limiter=InMemoryRateLimiter({BUDGET_FAMILY: 10_000}),
        max_calls=max_calls,
    )


@pytest.fixture
def business_account(csim: CommentSim, workspace: Workspace) -> TikTokAccount:
    return connect_business_account(csim, workspace)


@pytest.fixture
def videos(business_account: TikTokAccount) -> list[TikTokVideo]:
    return seed_videos(business_account, limit=2, skip=3)


def triage_pending(workspace: Workspace) -> int:
    """What the triage task does right after a sync commits (conversations.tasks)."""
    from conversations.ingest import comments_triage
    from conversations.models import Comment

    pending = Comment.objects.for_workspace(workspace).filter(triage_pending=True)
    return comments_triage(
        workspace_id=workspace.pk, comment_ids=list(pending.values_list("pk", flat=True))
    )
