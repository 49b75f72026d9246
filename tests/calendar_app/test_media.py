"""Media library: real files made by ffmpeg, validated by content, stored via the storage API."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calendar_app import services
from calendar_app.media import MediaRejected, inspect_file, sniff_content_type
from calendar_app.models import MediaAsset
from tests.calendar_app.factories import PostFactory
from tests.media_samples import mp4, webm


def upload(workspace, path: Path, name: str | None = None) -> MediaAsset:
    with path.open("rb") as fh:
        return services.media_upload(
            workspace=workspace, user=None, upload=fh, original_name=name or path.name
        )


@pytest.mark.parametrize(
    "fmt,content_type,rate",
    [("mp4", "video/mp4", 30), ("mov", "video/quicktime", 25), ("webm", "video/webm", 30)],
)
def test_video_metadata_is_read_from_the_file(make_media, fmt, content_type, rate):
    info = inspect_file(make_media(size="720x1280", rate=rate, seconds=2, fmt=fmt))
    assert (info.kind, info.content_type) == ("video", content_type)
    assert (info.width, info.height, info.frame_rate) == (720, 1280, rate)
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_mp4_parsing_needs_no_ffmpeg(make_media, monkeypatch):
    path = make_media()
    monkeypatch.setattr("calendar_app.media.ffmpeg_exe", lambda: None)
    info = inspect_file(path)
    assert (info.width, info.height, info.frame_rate) == (360, 640, 30)


@pytest.mark.django_db
def test_upload_stores_file_and_thumbnail(workspace, make_media):
    asset = upload(workspace, make_media(), name="holiday.mov")
    assert asset.content_type == "video/mp4"  # the bytes say MP4, whatever the name says
    name, thumbnail = asset.file.name, asset.thumbnail.name
    assert name and thumbnail  # both blobs were stored
    assert name.endswith(".mp4") and "holiday" not in name
    assert default_storage.exists(name)
    assert default_storage.open(thumbnail).read(2) == b"\xff\xd8"
    assert len(asset.sha256) == 64 and asset.duration_seconds == pytest.approx(2.0, abs=0.1)


@pytest.mark.django_db
def test_thumbnail_failure_degrades_to_placeholder(workspace, make_media, monkeypatch):
    monkeypatch.setattr("calendar_app.media.ffmpeg_exe", lambda: None)
    asset = upload(workspace, make_media())
    assert asset.pk and not asset.thumbnail


@pytest.mark.django_db
@pytest.mark.parametrize("fmt,content_type", [("jpg", "image/jpeg"), ("webp", "image/webp")])
def test_photos(workspace, make_media, fmt, content_type):
    asset = upload(workspace, make_media(size="400x500", fmt=fmt))
    assert (asset.kind, asset.content_type, asset.width, asset.height) == (
        "image",
        content_type,
        400,
        500,
    )


@pytest.mark.django_db
def test_png_is_refused_with_a_clear_message(workspace, make_media):
    with pytest.raises(MediaRejected, match="PNG images can't be posted to TikTok"):
        upload(workspace, make_media(size="400x500", fmt="png"), name="photo.jpg")
    assert MediaAsset.objects.for_workspace(workspace).count() == 0


def test_wrong_type_by_content():
    with pytest.raises(MediaRejected, match="contents, not its name"):
        sniff_content_type(b"%PDF-1.7 pretending to be clip.mp4")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"size": "320x240"}, "media_bad_resolution"),
        ({"rate": 15}, "media_bad_frame_rate"),
        ({"seconds": 3}, "media_too_long"),
    ],
)
def test_limits(workspace, make_media, settings, kwargs, code):
    settings.MEDIA_MAX_VIDEO_SECONDS = 2.5
    with pytest.raises(MediaRejected) as exc:
        upload(workspace, make_media(**kwargs))
    assert exc.value.code == code


@pytest.mark.django_db
def test_oversized(workspace, make_media, settings):
    settings.MEDIA_MAX_VIDEO_BYTES = 1000
    with pytest.raises(MediaRejected) as exc:
        upload(workspace, make_media())
    assert exc.value.code == "media_too_large" and "the limit is" in exc.value.message


@pytest.mark.django_db
def test_media_page_upload_answers_json_for_the_progress_bar(
    workspace, editor, client_for, make_media
):
    url = reverse("calendar_app:media", args=[workspace.id])
    client = client_for(editor)
    good = SimpleUploadedFile("a.mp4", make_media().read_bytes())
    response = client.post(url, {"file": good}, headers={"accept": "application/json"})
    assert response.status_code == 201 and response.json()["media"]["kind"] == "video"
    created = response.json()["media"]
    bad = SimpleUploadedFile("evil.mp4", b"MZ\x90\x00 not a video")
    response = client.post(url, {"file": bad}, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert "contents, not its name" in response.json()["error"]["message"]
    page = client.get(url)
    assert b"a.mp4" in page.content
    served = client.get(created["url"])
    assert served.status_code == 200 and served["Content-Type"] == "video/mp4"
    assert b"".join(served.streaming_content) == make_media().read_bytes()
    thumb = client.get(created["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


@pytest.mark.django_db
def test_viewer_cannot_upload(workspace, viewer, client_for, make_media):
    url = reverse("calendar_app:media", args=[workspace.id])
    response = client_for(viewer).post(
        url, {"file": SimpleUploadedFile("a.mp4", make_media().read_bytes())}
    )
    assert response.status_code == 403
    assert MediaAsset.objects.for_workspace(workspace).count() == 0


@pytest.mark.django_db(transaction=True)
def test_delete_removes_blob_but_not_media_in_use(workspace, make_media):
    asset = upload(workspace, make_media())
    name = asset.file.name
    assert name is not None
    PostFactory.create(workspace=workspace, media=asset)
    with pytest.raises(Exception, match="used by 1 post"):
        services.media_delete(workspace=workspace, media=asset)
    MediaAsset.objects.for_workspace(workspace)  # still there
    from calendar_app.models import Post

    Post.objects.for_workspace(workspace).delete()
    services.media_delete(workspace=workspace, media=asset)
    assert not default_storage.exists(name)


@pytest.mark.django_db
def test_declared_size_is_refused_before_copying(workspace, settings):
    settings.MEDIA_MAX_VIDEO_BYTES = settings.MEDIA_MAX_IMAGE_BYTES = 10
    big = SimpleUploadedFile("big.mp4", b"\x00" * 11)
    with pytest.raises(MediaRejected) as exc:
        services.media_upload(workspace=workspace, user=None, upload=big, original_name="big.mp4")
    assert exc.value.code == "media_too_large"


def test_a_video_in_a_codec_tiktok_does_not_take_is_refused(make_media, tmp_path):
    # §2.6: H.264/H.265/VP8/VP9; the simulator fails others with file_format_check_failed.
    assert inspect_file(make_media(size="720x1280")).codec == "avc1"
    path = tmp_path / "old.mp4"
    path.write_bytes(mp4(codec=b"mp4v"))
    with pytest.raises(MediaRejected) as refused:
        inspect_file(path)
    assert refused.value.code == "media_bad_codec" and "H.264" in refused.value.message


def test_webm_parsing_needs_no_ffmpeg(make_media, monkeypatch):
    path = make_media(size="720x1280", rate=25, fmt="webm")
    monkeypatch.setattr("calendar_app.media.ffmpeg_exe", lambda: None)
    info = inspect_file(path)
    assert (info.content_type, info.width, info.height, info.frame_rate) == (
        "video/webm",
        720,
        1280,
        25,
    )
    assert info.codec == "V_VP8"


@pytest.mark.parametrize(
    "video,code,message",
    [
        ({}, None, None),
        ({"fps": 23, "width": 360, "height": 640, "codec": "V_VP8"}, None, None),
        ({"codec": "V_MPEG4/ISO/AVC", "default_duration": False}, None, None),
        ({"fps": 15}, "media_bad_frame_rate", "This video has 15 fps; TikTok needs between 23"),
        (
            {"fps": 12, "default_duration": False},
            "media_bad_frame_rate",
            "This video has 12 fps",
        ),
        ({"width": 200, "height": 356}, "media_bad_resolution", "This video is 200x356 px;"),
        ({"codec": "V_AV1"}, "media_bad_codec", "This video is encoded as AV1; TikTok accepts"),
        ({"seconds": 601}, "media_too_long", "This video is 601 s long; TikTok accepts at most"),
        ({"seconds": None}, "media_rejected", "couldn't read this video's duration"),
        ({"doc_type": "matroska"}, "media_rejected", "This is a Matroska (.mkv) file"),
    ],
)
def test_webm_uploads_are_checked_against_tiktoks_specs(tmp_path, video, code, message):
    path = tmp_path / "clip.webm"
    path.write_bytes(webm(**video))
    if code is None:
        assert inspect_file(path).content_type == "video/webm"
        return
    with pytest.raises(MediaRejected) as refused:
        inspect_file(path)
    assert (refused.value.code, message in refused.value.message) == (code, True)


@pytest.mark.parametrize("cut", [60, 120, 200])
def test_a_damaged_webm_is_refused_with_a_sentence(tmp_path, cut):
    path = tmp_path / "cut.webm"
    path.write_bytes(webm()[:cut])
    with pytest.raises(MediaRejected) as refused:
        inspect_file(path)
    assert refused.value.message.startswith("This ")
