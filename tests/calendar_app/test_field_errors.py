"""Composer errors: every problem at once, each by its field, and nothing the user typed lost
(service, HTML composer, API and CSV import share one validation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from calendar_app import bulk, services
from calendar_app.models import MediaKind, Post
from calendar_app.services import PostContent, PostTarget
from later.errors import ValidationFailed
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def _codes_by_field(error: ValidationFailed) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for problem in error.problems:
        found.setdefault(problem.key, set()).add(problem.code)
    return found


def test_the_service_reports_every_problem_with_its_field(workspace):
    ava = TikTokAccountFactory.create(workspace=workspace, username="ava")
    chef = TikTokAccountFactory.create(workspace=workspace, username="chef")
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=10.0)
    content = PostContent(
        caption="Hi <script>alert(1)</script>",
        media_id=video.id,
        commercial_content=True,  # neither "Your brand" nor "Branded content"
        cover_timestamp_ms=60_000,  # the video lasts 10 s
        first_comment="x" * 151,
        title="t" * 91,
        scheduled_local=datetime(2026, 3, 1, 10, 0),  # before NOW
        scheduled_tz="Europe/Paris",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.post_create(
            workspace=workspace,
            user=None,
            content=content,
            targets=[
                PostTarget(account_id=ava.id),  # no audience chosen
                PostTarget(account_id=chef.id, privacy_level="SELF_ONLY", allow_comment=True),
            ],
            schedule=True,
            creator_infos={
                str(ava.id): creator_info(),
                str(chef.id): creator_info(comment_disabled=True),
            },
            now=NOW,
        )
    error = exc.value
    assert _codes_by_field(error) == {
        "caption": {"caption_invalid"},
        "title": {"title_too_long"},
        "first_comment": {"first_comment_too_long"},
        "scheduled_local": {"time_in_past"},
        "cover_timestamp_ms": {"invalid_cover"},
        "commercial_content": {"commercial_content_incomplete"},
        f"targets.{ava.id}.privacy_level": {"privacy_required"},
        f"targets.{chef.id}.allow_comment": {"interaction_disabled"},
    }
    # The single code and message callers relied on are still the first problem's.
    assert error.code == "caption_invalid" and error.message.startswith("Captions can't")
    assert "pick a time in the future" in error.message
    body = error.as_dict()["error"]
    assert body["code"] == "caption_invalid"
    assert body["fields"]["title"][0]["code"] == "title_too_long"
    assert Post.objects.for_workspace(workspace).count() == 0


def test_a_good_post_still_asks_to_confirm_cap_warnings_only_once_nothing_else_is_wrong(
    workspace,
):
    account = TikTokAccountFactory.create(workspace=workspace)
    video = MediaAssetFactory.create(workspace=workspace)
    content = PostContent(
        caption="<script>", media_id=video.id, scheduled_local=datetime(2026, 3, 25, 10, 0)
    )
    with pytest.raises(ValidationFailed) as exc:
        services.post_create(
            workspace=workspace,
            user=None,
            content=content,
            targets=[PostTarget(account_id=account.id, privacy_level="SELF_ONLY")],
            schedule=True,
            creator_infos={str(account.id): creator_info()},
            now=NOW,
        )
    assert not isinstance(exc.value, services.ConfirmationRequired)
    assert [p.field for p in exc.value.problems] == ["caption"]


@pytest.mark.parametrize(
    ("kind", "length", "ok"),
    [
        (MediaKind.IMAGE, 4000, True),
        (MediaKind.IMAGE, 4001, False),
        (MediaKind.VIDEO, 2200, True),
        (MediaKind.VIDEO, 2201, False),
    ],
)
def test_a_photo_caption_follows_tiktoks_longer_description_limit(workspace, kind, length, ok):
    account = TikTokAccountFactory.create(workspace=workspace)
    media = MediaAssetFactory.create(
        workspace=workspace,
        kind=kind,
        content_type="image/jpeg" if kind == MediaKind.IMAGE else "video/mp4",
        duration_seconds=None if kind == MediaKind.IMAGE else 12.0,
    )

    def save() -> list[Post]:
        return services.post_create(
            workspace=workspace,
            user=None,
            content=PostContent(
                caption="😀" * (length // 2) + "a" * (length % 2), media_id=media.id
            ),
            targets=[PostTarget(account_id=account.id)],
            schedule=False,
        )

    if ok:
        assert len(save()[0].caption.encode("utf-16-le")) // 2 == length
    else:
        with pytest.raises(ValidationFailed) as exc:
            save()
        assert exc.value.code == "caption_invalid"
        assert exc.value.problems[0].field == "caption"


def _tag(pattern: str, html: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match is not None, f"no match for {pattern!r}"
    return match.group(0)


def test_the_composer_shows_each_error_by_its_field_and_keeps_the_input(
    workspace, editor, client_for, tiktok_sim
):
    chef = tiktok_sim.connect(workspace, "sim-quiet-chef")  # comments turned off
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=20)
    url = reverse("calendar_app:post_create", args=[workspace.id])
    response = client_for(editor).post(
        url,
        {
            "accounts": [str(chef.id)],
            "media_id": str(video.id),
            "caption": "Menu drop <script>x</script> #food",
            "post_mode": "direct",
            "commercial_content": "on",
            "is_aigc": "on",
            "first_comment": "c" * 151,
            "scheduled_date": "2020-01-01",
            "scheduled_time": "10:15",
            "scheduled_tz": "Europe/Paris",
            "action": "schedule",
            f"allow_comment__{chef.id}": "on",
            f"allow_duet__{chef.id}": "on",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert Post.objects.for_workspace(workspace).count() == 0

    # One summary at the top, linking to each field.
    summary = _tag(r'<div class="notice notice-error error-summary".*?</div>', html)
    links = re.findall(r'<a href="#([^"]+)"', summary)
    assert {
        "caption",
        "id_first_comment",
        "id_scheduled_date",
        "field-commercial",
        f"privacy-{chef.id}",
        f"allow_comment-{chef.id}",
    } <= set(links)
    assert "things to fix" in summary

    # Each message beside its field, which points to it.
    for slot, words in [
        ("caption", "HTML or script"),
        ("first_comment", "first comment is 151 characters"),
        ("scheduled_local", "is in the past"),
        ("commercial_content", "Your brand"),
        (f"privacy_level-{chef.id}", "choose who can view"),
        (f"allow_comment-{chef.id}", "turned comments off"),
    ]:
        assert words in _tag(rf'<div class="field-error" id="error-{slot}".*?</div>', html), slot
    caption = _tag(r"<textarea name=\"caption\"[^>]*>", html)
    assert 'aria-invalid="true"' in caption and 'aria-describedby="error-caption"' in caption
    assert 'aria-describedby="error-scheduled_local"' in _tag(
        r'<input[^>]*name="scheduled_date"[^>]*>', html
    )
    assert 'aria-invalid="true"' in _tag(rf'<select id="privacy-{chef.id}"[^>]*>', html)

    # Everything typed comes back.
    assert "Menu drop &lt;script&gt;x&lt;/script&gt; #food</textarea>" in html
    assert "c" * 151 + "</textarea>" in html
    assert "checked" in _tag(rf'<input type="radio" name="media_id" value="{video.id}"[^>]*>', html)
    assert "checked" in _tag(r'<input type="checkbox" name="commercial_content"[^>]*>', html)
    assert "checked" in _tag(r'<input type="checkbox" name="is_aigc"[^>]*>', html)
    assert 'value="2020-01-01"' in _tag(r'<input[^>]*name="scheduled_date"[^>]*>', html)
    assert 'value="10:15"' in _tag(r'<input[^>]*name="scheduled_time"[^>]*>', html)
    assert "checked" in _tag(rf'<input type="checkbox" name="allow_duet__{chef.id}"[^>]*>', html)
    assert "checked" in _tag(
        rf'<input type="checkbox" name="accounts" value="{chef.id}"[^>]*>', html
    )


def test_a_form_it_cannot_read_whole_still_shows_the_other_problems(workspace, editor, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    url = reverse("calendar_app:post_create", args=[workspace.id])
    response = client_for(editor).post(
        url,
        {
            "accounts": [str(account.id)],
            "caption": "<script>x</script>",
            "first_comment": "c" * 151,
            "post_mode": "direct",
            "scheduled_date": "2030-02-31",  # no such day: the form refuses it
            "scheduled_time": "10:00",
            "action": "draft",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid date" in _tag(
        r'<div class="field-error" id="error-scheduled_local".*?</div>', html
    )
    assert "HTML or script" in _tag(r'<div class="field-error" id="error-caption".*?</div>', html)
    assert "first comment is 151" in _tag(
        r'<div class="field-error" id="error-first_comment".*?</div>', html
    )
    assert 'value="2030-02-31"' in html


def test_the_api_answers_every_field_error_in_one_400(workspace, editor, api_client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=5)
    base = reverse("calendar_app:api_posts", args=[workspace.id])
    api = api_client_for(editor)
    answer = api.post(
        base,
        {
            "caption": "<script>x</script>",
            "media_id": str(video.id),
            "cover_timestamp_ms": 9000,
            "first_comment": "hello",  # the account has no Business connection
            "scheduled_local": "2020-01-01T10:00",
            "schedule": False,
            "targets": [{"account_id": str(account.id), "privacy_level": "SELF_ONLY"}],
        },
        format="json",
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "caption_invalid"  # the first problem, as before
    assert set(error["fields"]) == {"caption", "cover_timestamp_ms", "first_comment"}
    assert error["fields"]["first_comment"][0]["code"] == "first_comment_needs_business"
    # The schema documents what the answer carries, the fields map included.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = schema["components"]["schemas"]["ErrorBody"]["properties"]
    assert set(error) <= set(documented), set(error) - set(documented)
    problem = documented["fields"]["additionalProperties"]["items"]
    assert set(error["fields"]["caption"][0]) == set(
        schema["components"]["schemas"][problem["$ref"].rsplit("/", 1)[1]]["properties"]
    )
    assert "HTML or script" in error["message"] and "inside the video" in error["message"]

    # The body's own shape errors answer the same way, nested fields included.
    shape = api.post(
        base,
        {"caption": 5, "photo_ids": ["nope"], "targets": [{"privacy_level": "LOUD"}]},
        format="json",
    ).json()["error"]
    assert shape["code"] == "validation_failed" and "details" in shape
    assert {"photo_ids.0", "targets.0.account_id", "targets.0.privacy_level"} <= set(
        shape["fields"]
    )


def test_a_csv_row_reports_all_its_reasons(workspace, editor):
    TikTokAccountFactory.create(workspace=workspace, username="ava")
    MediaAssetFactory.create(workspace=workspace, original_name="clip.mp4")
    csv = (
        b"account,date,time,caption,privacy,toggles,media\n"
        b"ava,2030-01-01,10:00,<script>x</script>,loud,comment;confetti,clip.mp4\n"
        b"nobody,,,fine,,,missing.mp4\n"
    )
    preview = bulk.import_preview(
        workspace=workspace, user=editor, file_name="rows.csv", content=csv
    )
    first, second = preview.result
    assert first["status"] == "error" and len(first["reasons"]) == 3
    joined = " ".join(first["reasons"])
    assert "not a privacy level" in joined and "not a toggle" in joined
    assert "HTML or script" in joined
    assert first["code"] == "invalid_privacy_level"
    assert [r.split(" ")[0] for r in second["reasons"]] == ["No", "No"]
    assert "nobody" in second["reasons"][0] and "missing.mp4" in second["reasons"][1]


def test_the_import_page_lists_each_reason(workspace, editor, client_for):
    TikTokAccountFactory.create(workspace=workspace, username="ava")
    upload = SimpleUploadedFile(
        "rows.csv",
        b"account,date,time,caption,privacy,toggles,media\nava,,,<script>,loud,,\n",
        content_type="text/csv",
    )
    client = client_for(editor)
    answer = client.post(
        reverse("calendar_app:import_start", args=[workspace.id]), {"file": upload}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    html = client.get(answer["Location"]).content.decode()
    reasons = _tag(r'<ul class="import-reasons".*?</ul>', html)
    assert "not a privacy level" in reasons and "HTML or script" in reasons
