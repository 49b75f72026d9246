"""Comment ingest and inbox paging, on a throwaway PostgreSQL database.

    .venv/bin/python bench/comments_ingest.py            # 1,000,000 comments
    BENCH_COMMENTS=200000 .venv/bin/python bench/comments_ingest.py

1. Ingest: the sync's upsert path (`conversations.sync.comments_upsert`) fed TikTok pages of 30
   the way a sync pass writes them (`conversations.sync.PassWriter`), one page a transaction
   (an incremental pass that reads one page), and in 1,000-row batches, against raw PostgreSQL
   COPY of the very same rows into the same table with the same indexes, in the same run; then the
   idempotent re-run (nothing changed: checked that no row was written). Triage runs after the
   write, as in the product (the upsert path includes queueing its Celery task on the broker
   of REDIS_URL); its own throughput (`conversations.ingest.comments_triage` over every
   ingested row, the task's body) is a separate line.
2. Inbox: the table is filled to BENCH_COMMENTS rows in one workspace and the Inbox page query
   (`conversations.selectors.inbox_page`, the code the view runs) is timed on page 1 and on
   deep pages reached by keyset cursor, beside the same deep page fetched with OFFSET.

Creates database `later_bench_comments`, drops it at the end; bounded to a few minutes.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    drop_database,
    fresh_database,
    median,
    percentile,
    report,
    setup_django,
)

DB_NAME = os.environ.get("BENCH_COMMENTS_DB", "later_bench_comments")
TOTAL_COMMENTS = int(os.environ.get("BENCH_COMMENTS", "1000000"))
INGEST_ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "12000"))
VIDEOS = 20
WARM_ROWS = 3000
QUERY_REPS = int(os.environ.get("BENCH_QUERY_REPS", "40"))
DEADLINE_SECONDS = int(os.environ.get("BENCH_DEADLINE_SECONDS", "280"))


def copy_columns() -> list[str]:
    """Every stored column of the comment table (the generated `priority` excluded)."""
    from conversations.models import Comment

    return [
        str(f.column) for f in Comment._meta.concrete_fields if not getattr(f, "generated", False)
    ]


def _items(video_ids: list[str], count: int, start: int) -> dict[str, list]:
    """TikTok comment objects as the client returns them, grouped per video; one in five is a
    reply to the thread just before it."""
    from tiktok_client.schemas import Comment as TikTokComment

    base = int(time.time()) - 86400
    per_video: dict[str, list[TikTokComment]] = {v: [] for v in video_ids}
    parent: dict[str, str] = {}
    for n in range(start, start + count):
        video = video_ids[n % len(video_ids)]
        is_reply = n % 5 == 4 and video in parent
        per_video[video].append(
            TikTokComment(
                comment_id=f"{7_400_000_000_000_000_000 + n}",
                video_id=video,
                parent_comment_id=parent[video] if is_reply else None,
                unique_identifier=f"fan-{n % 5000}",
                username=f"fan{n % 5000}",
                display_name=f"Fan {n % 5000}",
                profile_image=f"https://p16.tiktokcdn.test/avatar/{n % 5000}.jpeg",
                text=f"Comment {n}: where did you get that cup? 😍",
                create_time=base + n,
                likes=n % 40,
                replies=0,
                owner=False,
                liked=False,
                pinned=False,
                status="PUBLIC",
            )
        )
        if not is_reply:
            parent[video] = f"{7_400_000_000_000_000_000 + n}"
    return per_video


def _ingest(account, videos, per_video, batch: int, as_pass: bool = False) -> float:
    """Rows/s writing each video's items in chunks of `batch`. `as_pass`: the chunks are pages
    handed to the sync's `PassWriter` (what `comment_sync_video` does with the pages it reads,
    minus the TikTok calls); otherwise one `comments_upsert` (one transaction) per chunk."""
    from conversations.sync import PassWriter, SyncStats, comments_upsert, triage_per_pass

    started = time.perf_counter()
    rows = 0
    for video in videos:
        items = per_video[video.video_id]
        # One pass per video, as `comment_sync_video` runs it (one triage task per pass).
        with triage_per_pass(account=account):
            writer = PassWriter(
                account=account, video=video, now=dt.datetime.now(dt.UTC), stats=SyncStats()
            )
            for i in range(0, len(items), batch):
                chunk = items[i : i + batch]
                # A reply travels with its parent or after it, as in a TikTok page + replies.
                if as_pass:
                    writer.add(chunk)
                    writer.write_if_due()
                else:
                    comments_upsert(account=account, video=video, items=chunk)
                rows += len(chunk)
            writer.write()
    return rows / (time.perf_counter() - started)


def _copy_rows(workspace_id: uuid.UUID, account_id: uuid.UUID) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(copy_columns())} FROM conversations_comment "
            "WHERE workspace_id = %s",
            [workspace_id],
        )
        return list(cursor.fetchall())


def _copy(rows: list[tuple]) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY conversations_comment ({', '.join(copy_columns())}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows) / (time.perf_counter() - started)


def _fill(
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    video_pks: list[uuid.UUID],
    member_ids: list[int],
    label_ids: list[uuid.UUID],
) -> float:
    """TOTAL_COMMENTS comments with the team work in use: one in five assigned (to one of
    four members), one in seven a question, one in eleven negative, one in nine answered
    (first response), and one in thirteen labelled."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO conversations_comment (
                id, created_at, updated_at, workspace_id, video_id, account_id, comment_id,
                parent_id, author_key, author_username, author_display_name, author_avatar_url,
                text, created_at_tiktok, like_count, reply_count, is_hidden, is_pinned, is_own,
                liked, read_at, handled_at, handled_by_id, is_pending, pending_error, sent_by_id,
                deleted_at, synced_at, assignee_id, assigned_at, is_question, sentiment,
                sentiment_score, language, sentiment_override, first_response_at,
                first_response_by_id, triage_pending)
            SELECT gen_random_uuid(), now(), now(), %(ws)s, (%(videos)s::uuid[])[1 + g %% %(n)s],
                   %(acc)s, 'bulk-' || g, NULL, 'fan-' || (g %% 50000), 'fan' || (g %% 50000),
                   'Fan ' || (g %% 50000), '', 'Comment ' || g || ' about the latte art',
                   now() - (g || ' seconds')::interval * 7, g %% 40, 0, g %% 97 = 0, false,
                   false, false,
                   CASE WHEN g %% 10 < 7 THEN now() END, CASE WHEN g %% 10 < 6 THEN now() END,
                   NULL, false, '', NULL, NULL, now(),
                   CASE WHEN g %% 5 = 0 THEN (%(members)s::int[])[1 + g %% 4] END,
                   CASE WHEN g %% 5 = 0 THEN now() END,
                   g %% 7 = 0,
                   CASE WHEN g %% 11 = 0 THEN 'negative' WHEN g %% 3 = 0 THEN 'positive'
                        ELSE 'neutral' END,
                   0, 'en', '',
                   CASE WHEN g %% 9 = 0
                        THEN now() - (g || ' seconds')::interval * 7
                             + (g %% 7200 || ' seconds')::interval
                   END,
                   CASE WHEN g %% 9 = 0 THEN (%(members)s::int[])[1 + g %% 4] END,
                   false
            FROM generate_series(1, %(total)s) AS g
            """,
            {
                "ws": workspace_id,
                "acc": account_id,
                "videos": [str(v) for v in video_pks],
                "n": len(video_pks),
                "total": TOTAL_COMMENTS,
                "members": member_ids,
            },
        )
        cursor.execute(
            """
            INSERT INTO conversations_commentlabel (id, created_at, updated_at, workspace_id,
                                                    comment_id, comment_created_at_tiktok,
                                                    label_id)
            SELECT gen_random_uuid(), now(), now(), %(ws)s, c.id, c.created_at_tiktok,
                   (%(labels)s::uuid[])[1 + (hashtext(c.comment_id) & 3)]
            FROM conversations_comment c
            WHERE c.workspace_id = %(ws)s AND hashtext(c.comment_id) %% 13 = 0
            """,
            {"ws": workspace_id, "labels": [str(label) for label in label_ids]},
        )
        cursor.execute("ANALYZE conversations_comment")
        cursor.execute("ANALYZE conversations_commentlabel")
    return time.perf_counter() - started


def _time(fn, reps: int) -> list[float]:
    fn()  # warm the plan and the cache
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _cursor_at(workspace, offset: int, status: str = "all") -> str:
    from conversations import selectors

    qs = selectors.inbox_queryset(
        workspace=workspace, filters=selectors.InboxFilters(status=status)
    )
    row = qs.values_list("created_at_tiktok", "id")[offset - 1 : offset].get()
    return selectors.Cursor(created_at=row[0], pk=row[1]).encode()


def main() -> None:
    began = time.perf_counter()
    url = fresh_database(DB_NAME)
    try:
        # The triage task goes to the run's broker (make bench: BENCH_REDIS_URL).
        setup_django(url, REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
        run(began)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)
    print(f"done in {time.perf_counter() - began:.0f}s (database {DB_NAME} dropped)")


def run(began: float) -> None:
    from django.db import connection

    from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
    from conversations import selectors
    from conversations.models import Comment
    from conversations.response_times import response_time_summary
    from conversations.sync import PASS_WRITE_ROWS

    workspace = Workspace.objects.create(name="Bench")
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id="bench-biz",
        username="bench",
        account_type=AccountType.BUSINESS,
    )
    now = dt.datetime.now(dt.UTC)
    videos = [
        TikTokVideo.objects.create(
            workspace=workspace,
            account=account,
            video_id=f"73000000000000{i:05d}",
            posted_at=now - dt.timedelta(days=i),
        )
        for i in range(VIDEOS)
    ]
    video_ids = [v.video_id for v in videos]
    scoped = Comment.objects.for_workspace(workspace)

    # --- warm-up: another workspace's comments, then what autovacuum does to a table that grew
    # from nothing (production tables have statistics; a never-analyzed one makes the planner
    # scan a workspace's rows instead of probing the unique index for a reply's stored thread).
    other = Workspace.objects.create(name="Other")
    other_account = TikTokAccount.objects.create(
        workspace=other, open_id="other-biz", username="other", account_type=AccountType.BUSINESS
    )
    other_videos = [
        TikTokVideo.objects.create(
            workspace=other, account=other_account, video_id=f"74000000000000{i:05d}",
            posted_at=now - dt.timedelta(days=i),
        )
        for i in range(VIDEOS)
    ]  # fmt: skip
    warm = _items([v.video_id for v in other_videos], WARM_ROWS, start=10 * INGEST_ROWS)
    _ingest(other_account, other_videos, warm, batch=30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_comment")

    # --- ingest: page-sized batches (as the sync calls it), then 1,000-row batches ---------
    page_items = _items(video_ids, INGEST_ROWS, start=0)
    page_rate = _ingest(account, videos, page_items, batch=30, as_pass=True)
    single_items = _items(video_ids, INGEST_ROWS, start=2 * INGEST_ROWS)
    single_rate = _ingest(account, videos, single_items, batch=30)
    bulk_items = _items(video_ids, INGEST_ROWS, start=INGEST_ROWS)
    bulk_rate = _ingest(account, videos, bulk_items, batch=1000)
    rerun_started = dt.datetime.now(dt.UTC)
    rerun_rate = _ingest(account, videos, bulk_items, batch=1000)
    written = scoped.count()
    assert written == 3 * INGEST_ROWS, written
    rewritten = scoped.filter(synced_at__gte=rerun_started).count()
    assert rewritten == 0, f"the re-run wrote {rewritten} rows"

    # Triage, as the follow-up task runs it (the tasks queued above have no worker here).
    from later.celery import app as celery_app

    celery_app.control.purge()
    Comment.objects.for_workspace(other).delete()
    pending = list(scoped.filter(triage_pending=True).values_list("pk", flat=True))
    assert len(pending) == 3 * INGEST_ROWS, len(pending)
    from conversations.ingest import comments_triage
    from conversations.triage import triage

    triage.cache_clear()
    started = time.perf_counter()
    read = comments_triage(workspace_id=workspace.pk, comment_ids=pending)
    triage_rate = read / (time.perf_counter() - started)
    assert read == len(pending) and not scoped.filter(triage_pending=True).exists()

    rows = _copy_rows(workspace.pk, account.pk)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE conversations_comment CASCADE")
    copy_rate = _copy(rows)
    assert scoped.count() == len(rows)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE conversations_comment CASCADE")

    print(f"ingest, {INGEST_ROWS:,} rows each (same table, same indexes; triage after the write):")
    print(f"  sync pass, TikTok pages of 30     {page_rate:>10,.0f} rows/s")
    print(f"  one page a transaction            {single_rate:>10,.0f} rows/s")
    print(f"  upsert path, batches of 1,000     {bulk_rate:>10,.0f} rows/s")
    print(f"  re-run, nothing changed (0 writes){rerun_rate:>10,.0f} rows/s")
    print(f"  triage of all {3 * INGEST_ROWS:,} rows (task body) {triage_rate:>10,.0f} rows/s")
    print(f"  raw PostgreSQL COPY, same rows    {copy_rate:>10,.0f} rows/s")
    print(f"  ratio upsert(1,000) / COPY         {bulk_rate / copy_rate:>10.2f}")
    report(
        name="comments ingest, sync pass of TikTok pages of 30", value=page_rate, unit="rows/s",
        baseline_name="PostgreSQL COPY", baseline_value=copy_rate,
        note=f"PassWriter: the first page, then up to {PASS_WRITE_ROWS:,} rows a transaction "
        f"({INGEST_ROWS // VIDEOS:,}-row passes here)",
    )  # fmt: skip
    report(
        name="comments ingest upsert (one page of 30 a transaction)", value=single_rate,
        unit="rows/s", baseline_name="PostgreSQL COPY", baseline_value=copy_rate,
        note="an incremental pass that reads one page",
    )  # fmt: skip
    report(
        name="comments ingest upsert (batches of 1000)", value=bulk_rate, unit="rows/s",
        baseline_name="PostgreSQL COPY", baseline_value=copy_rate,
        note="triage after the write (own line)",
    )  # fmt: skip
    report(
        name="comments re-sync, nothing changed (0 rows written)", value=rerun_rate,
        unit="rows/s", baseline_name="PostgreSQL COPY", baseline_value=copy_rate,
    )  # fmt: skip
    report(
        name="comments triage after the write (bulk task body)", value=triage_rate,
        unit="rows/s", baseline_name="PostgreSQL COPY", baseline_value=copy_rate,
    )  # fmt: skip

    # --- inbox paging at scale ------------------------------------------------------------
    from accounts.models import Membership, Role, User
    from conversations.models import Label

    members = [
        User.objects.create_user(email=f"member{i}@bench.example", password=None) for i in range(4)
    ]
    for member in members:
        Membership.objects.create(workspace=workspace, user=member, role=Role.EDITOR)
    labels = [
        Label.objects.create(workspace=workspace, name=name)
        for name in ("lead", "complaint", "UGC", "press")
    ]
    fill_seconds = _fill(
        workspace.pk, account.pk, [v.pk for v in videos], [m.pk for m in members],
        [label.pk for label in labels],
    )  # fmt: skip
    print(f"\nfilled {TOTAL_COMMENTS:,} comments in {fill_seconds:.0f}s")
    if time.perf_counter() - began > DEADLINE_SECONDS:
        print("deadline reached; skipping query timings")
        return

    page_size = selectors.PAGE_SIZE
    filters_all = selectors.InboxFilters()
    filters_unread = selectors.InboxFilters(status="unread")

    def page(filters: selectors.InboxFilters, cursor: str | None) -> None:
        result = selectors.inbox_page(workspace=workspace, filters=filters, cursor=cursor)
        assert len(result.comments) == page_size

    deep_1000 = _cursor_at(workspace, min(1000 * page_size, TOTAL_COMMENTS - 2 * page_size))
    deepest = _cursor_at(workspace, TOTAL_COMMENTS - 2 * page_size)
    unread_total = selectors.inbox_queryset(workspace=workspace, filters=filters_unread).count()
    unread_deep = _cursor_at(
        workspace, min(1000 * page_size, unread_total - 2 * page_size), status="unread"
    )
    offset_rows = 1000 * page_size

    def offset_page() -> None:
        qs = selectors.inbox_queryset(workspace=workspace, filters=filters_all)
        assert len(list(qs[offset_rows : offset_rows + page_size])) == page_size

    me = members[0]
    priority = selectors.InboxFilters(order="priority")

    def team_page(filters: selectors.InboxFilters, cursor: str | None = None) -> None:
        selectors.inbox_page(workspace=workspace, filters=filters, cursor=cursor, user=me)

    priority_deep = selectors.inbox_page(
        workspace=workspace, filters=priority, page_size=selectors.MAX_PAGE_SIZE
    ).next_cursor
    for _ in range(9):
        priority_deep = selectors.inbox_page(
            workspace=workspace,
            filters=priority,
            cursor=priority_deep,
            page_size=selectors.MAX_PAGE_SIZE,
        ).next_cursor

    def search_page() -> None:
        selectors.inbox_page(workspace=workspace, filters=selectors.InboxFilters(search="fan4999"))

    timings = {
        "page 1": _time(lambda: page(filters_all, None), QUERY_REPS),
        "page 1,000 (keyset)": _time(lambda: page(filters_all, deep_1000), QUERY_REPS),
        f"last page, ~{TOTAL_COMMENTS // page_size:,} (keyset)": _time(
            lambda: page(filters_all, deepest), QUERY_REPS
        ),
        "unread, page 1": _time(lambda: page(filters_unread, None), QUERY_REPS),
        "unread, page 1,000 (keyset)": _time(lambda: page(filters_unread, unread_deep), QUERY_REPS),
        "priority order, page 1": _time(lambda: team_page(priority), QUERY_REPS),
        "priority order, page 41 (keyset)": _time(
            lambda: team_page(priority, priority_deep), QUERY_REPS
        ),
        "questions, page 1": _time(
            lambda: team_page(selectors.InboxFilters(status="questions")), QUERY_REPS
        ),
        "assigned to me, page 1": _time(
            lambda: team_page(selectors.InboxFilters(assignee="mine")), QUERY_REPS
        ),
        "label 'complaint', page 1": _time(
            lambda: team_page(selectors.InboxFilters(label_id=labels[1].pk)), QUERY_REPS
        ),
        "a person (not me) + priority, page 1": _time(
            lambda: team_page(
                selectors.InboxFilters(assignee=str(members[1].public_id), order="priority")
            ),
            QUERY_REPS,
        ),
        "mine + label + priority, page 1": _time(
            lambda: team_page(
                selectors.InboxFilters(assignee="mine", label_id=labels[0].pk, order="priority")
            ),
            QUERY_REPS,
        ),
        "response-time summary, 7 days": _time(
            lambda: response_time_summary(workspace=workspace, days=7), max(5, QUERY_REPS // 4)
        ),
        "filter chip counts (capped)": _time(
            lambda: selectors.inbox_counts(workspace=workspace), QUERY_REPS
        ),
        "search 'fan4999' (trigram index)": _time(search_page, max(5, QUERY_REPS // 4)),
        "page 1,000 with OFFSET (contrast)": _time(offset_page, max(5, QUERY_REPS // 4)),
    }
    print(f"\ninbox page query at {TOTAL_COMMENTS:,} comments ({page_size} per page), ms:")
    print(f"  {'':40} {'p50':>8} {'p95':>8}")
    for label, samples in timings.items():
        print(f"  {label:40} {median(samples):8.2f} {percentile(samples, 95):8.2f}")
    first_p95 = percentile(timings["page 1"], 95)
    report(
        name="inbox page 1,000 p95 (keyset, 1M comments)",
        value=percentile(timings["page 1,000 (keyset)"], 95),
        unit="ms",
        baseline_name="page 1 p95",
        baseline_value=first_p95,
    )
    report(
        name="inbox page 1 p95, priority order + team details (1M comments)",
        value=percentile(timings["priority order, page 1"], 95),
        unit="ms",
        baseline_name="page 1 p95 (newest)",
        baseline_value=first_p95,
    )
    report(
        name="inbox page 1 p95, mine + label + priority (1M comments)",
        value=percentile(timings["mine + label + priority, page 1"], 95),
        unit="ms",
        baseline_name="page 1 p95 (newest)",
        baseline_value=first_p95,
    )
    report(
        name="inbox last page p95 (keyset, 1M comments)",
        value=percentile(timings[f"last page, ~{TOTAL_COMMENTS // page_size:,} (keyset)"], 95),
        unit="ms",
        baseline_name="page 1 p95",
        baseline_value=first_p95,
    )


if __name__ == "__main__":
    main()
