"""Comment sync's schedule stored, so the minute's fan-out reads only what is due (issue 18):
`TikTokVideo.comments_due_at`, `TikTokAccount.comments_due_at` (the earliest of its videos and
its video list) and `TikTokAccount.videos_listed_at`.

Online on a big table:
- the columns are added with a constant default, which PostgreSQL 11+ records in the catalogue
  without rewriting the table (a lock of milliseconds); the default is then dropped, also
  catalogue only;
- the indexes are built CONCURRENTLY on PostgreSQL (the migration is not atomic), so the
  tables keep taking writes;
- the due times are then filled from what the old fan-out computed (`comments_synced_at`,
  `posted_at`, the poll tiers; the newest `last_synced_at` for the list) in batches of
  BATCH rows, one short transaction each, so no row is locked for long. Every row therefore
  keeps the place it had in the old order: the deploy does not make every video due at once,
  and the longest waiting still go first. Until a batch is filled its rows hold the
  migration's start (due at once, behind everything already overdue).
"""

import datetime as dt

from django.db import migrations, models, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Max, OuterRef, Subquery
from django.db.models import Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

BATCH = 5000
# conversations.sync.POLL_TIERS, OLD_VIDEO_POLL and the list's refresh interval when this was
# written (a migration must not follow later changes of the code).
YOUNG, YOUNG_POLL = dt.timedelta(days=2), dt.timedelta(seconds=55)
RECENT, RECENT_POLL = dt.timedelta(days=14), dt.timedelta(hours=1)
OLD_POLL = dt.timedelta(days=1)
LIST_EVERY = dt.timedelta(minutes=10)


def _plus(field, delta):  # type: ignore[no-untyped-def]
    return ExpressionWrapper(F(field) + delta, output_field=DateTimeField())


def _video_due():  # type: ignore[no-untyped-def]
    """conversations.sync.comments_next_due in SQL: the first moment the poll interval of the
    video's age at that moment has passed since its last sync; never synced: since posted."""
    recent = Greatest(_plus("comments_synced_at", RECENT_POLL), _plus("posted_at", YOUNG))
    return Case(
        When(comments_synced_at__isnull=True, then=F("posted_at")),
        When(
            comments_synced_at__lt=ExpressionWrapper(
                F("posted_at") + (YOUNG - YOUNG_POLL), output_field=DateTimeField()
            ),
            then=_plus("comments_synced_at", YOUNG_POLL),
        ),
        When(
            comments_synced_at__lt=ExpressionWrapper(
                F("posted_at") + (RECENT - RECENT_POLL), output_field=DateTimeField()
            ),
            then=recent,
        ),
        default=Greatest(_plus("comments_synced_at", OLD_POLL), _plus("posted_at", RECENT)),
        output_field=DateTimeField(),
    )


def _in_batches(queryset, write):  # type: ignore[no-untyped-def]
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return
        with transaction.atomic():
            write(queryset.filter(pk__in=pks))
        last = pks[-1]


def fill_due_times(apps, schema_editor):  # type: ignore[no-untyped-def]
    video = apps.get_model("accounts", "TikTokVideo")
    account = apps.get_model("accounts", "TikTokAccount")
    now = timezone.now()
    _in_batches(video.objects.all(), lambda rows: rows.update(comments_due_at=_video_due()))
    videos = video.objects.filter(account=OuterRef("pk")).order_by()
    listed = Subquery(
        videos.values("account").annotate(at=Max("last_synced_at")).values("at")[:1],
        output_field=DateTimeField(),
    )
    first_video = Subquery(
        videos.order_by("comments_due_at").values("comments_due_at")[:1],
        output_field=DateTimeField(),
    )
    _in_batches(account.objects.all(), lambda rows: rows.update(videos_listed_at=listed))
    _in_batches(
        account.objects.all(),
        lambda rows: rows.update(
            comments_due_at=Least(
                Coalesce(first_video, Value(dt.datetime(9999, 1, 1, tzinfo=dt.UTC))),
                # Never listed: the list is due now.
                Coalesce(_plus("videos_listed_at", LIST_EVERY), Value(now)),
            )
        ),
    )


class AddIndexOnline(migrations.AddIndex):
    """AddIndex, CONCURRENTLY on PostgreSQL (the migration is not atomic)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        concurrently = schema_editor.connection.vendor == "postgresql"
        schema_editor.add_index(model, self.index, **({"concurrently": True} if concurrently else {}))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        concurrently = schema_editor.connection.vendor == "postgresql"
        schema_editor.remove_index(
            model, self.index, **({"concurrently": True} if concurrently else {})
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0012_webhook_event_sweep"),
    ]

    operations = [
        migrations.AddField(
            model_name="tiktokaccount",
            name="comments_due_at",
            field=models.DateTimeField(default=timezone.now),
        ),
        migrations.AddField(
            model_name="tiktokaccount",
            name="videos_listed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="tiktokvideo",
            name="comments_due_at",
            field=models.DateTimeField(default=timezone.now),
        ),
        AddIndexOnline(
            model_name="tiktokaccount",
            index=models.Index(
                condition=models.Q(
                    ("account_type", "business"),
                    ("business_status", "connected"),
                    ("status", "connected"),
                ),
                fields=["comments_due_at"],
                name="tiktok_account_comments_due",
            ),
        ),
        AddIndexOnline(
            model_name="tiktokvideo",
            index=models.Index(
                fields=["account", "comments_due_at"], name="tiktok_video_comments_due"
            ),
        ),
        migrations.RunPython(fill_due_times, migrations.RunPython.noop, elidable=True),
    ]
