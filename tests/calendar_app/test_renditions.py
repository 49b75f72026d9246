"""TikTok-ready renditions of library photos over 1080p: made at upload through the real upload
path, served by the signed public link, the original kept and shown by the library."""

from __future__ import annotations

import io
from datetime import time
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms

from calendar_app import bulk, queue, renditions, services
from calendar_app.media import MediaRejected
from calendar_app.models import MediaAsset, Post, PostMode
from calendar_app.public_media import public_media_url
from calendar_app.publishing import pull
from later.errors import AppError
from tests.calendar_app.factories import PostFactory
from tests.calendar_app.photo_factories import (
    BLUE,
    GPS_IFD,
    GPS_POSITION,
    ORIENTATION,
    RED,
    photo,
)
from tests.factories import TikTokAccountFactory
from tests.security.test_upload_abuse import tiny_jpeg


def upload(workspace: Any, data: bytes, name: str = "IMG_0001.jpg") -> MediaAsset:
    return services.media_upload(
        workspace=workspace, user=None, upload=io.BytesIO(data), original_name=name
    )


def opened(asset: MediaAsset) -> Image.Image:
    with default_storage.open(str(asset.rendition.name)) as fh:
        img = Image.open(io.BytesIO(fh.read()))
        img.load()
        return img


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((3024, 4032), (1080, 1440)),  # phone portrait: the short side decides
        ((4032, 3024), (1440, 1080)),  # landscape fits 1920x1080
        ((1080, 4000), (518, 1920)),  # a long strip: the long side decides
        ((1080, 1920), (1080, 1920)),  # already 1080p
        ((4000, 4000), (1080, 1080)),
    ],
)
def test_fitted_size_stays_within_1080p_either_way_round(
    size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert renditions.fitted_size(*size) == fitted


@pytest.mark.django_db
def test_a_phone_photo_gets_a_1080p_jpeg_and_the_library_keeps_the_original(
    workspace: Any,
) -> None:
    profile = srgb_profile()  # its header carries the second it was made
    original = photo(3024, 4032, icc=profile)
    asset = upload(workspace, original)

    assert (asset.width, asset.height, asset.size_bytes) == (3024, 4032, len(original))
    assert default_storage.open(str(asset.file.name)).read() == original
    assert str(asset.rendition.name).endswith(".jpg")
    rendition = opened(asset)
    assert rendition.format == "JPEG" and rendition.size == (1080, 1440)
    assert (asset.rendition_width, asset.rendition_height) == (1080, 1440)
    assert asset.rendition_size_bytes == default_storage.size(str(asset.rendition.name))
    assert rendition.info.get("icc_profile") == profile  # colour kept
    assert _near(rendition.getpixel((10, 10)), RED) and _near(
        rendition.getpixel((1070, 1430)), BLUE
    )


@pytest.mark.django_db
def test_exif_orientation_is_applied(workspace: Any) -> None:
    # Stored landscape, shown portrait (a phone held upright): orientation 6 turns it clockwise.
    asset = upload(workspace, photo(4032, 3024, orientation=6))
    rendition = opened(asset)
    assert rendition.size == (1080, 1440)
    assert ORIENTATION not in rendition.getexif()
    # The stored top-left (red) quarter is shown top-right once turned clockwise.
    assert _near(rendition.getpixel((1070, 10)), RED) and _near(rendition.getpixel((10, 10)), BLUE)


@pytest.mark.django_db
def test_a_landscape_webp_with_alpha_becomes_a_flat_jpeg(workspace: Any) -> None:
    asset = upload(workspace, photo(4000, 2250, fmt="WEBP", mode="RGBA"), name="wide.webp")
    assert asset.content_type == "image/webp" and str(asset.file.name).endswith(".webp")
    rendition = opened(asset)
    assert (rendition.format, rendition.mode, rendition.size) == ("JPEG", "RGB", (1920, 1080))


@pytest.mark.django_db
def test_a_photo_within_1080p_gets_no_rendition(workspace: Any) -> None:
    asset = upload(workspace, photo(1080, 1920))
    assert not asset.rendition and asset.rendition_size_bytes is None
    assert asset.private_exif is False and renditions.tiktok_ready(asset)
    assert renditions.served_file(asset) == (asset.file.name, "image/jpeg")


def served_by_public_link(client: Any, settings: Any, asset: MediaAsset) -> bytes:
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.later.test/public-media/"
    answer = client.get(public_media_url(asset).replace("https://media.later.test", ""))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    return b"".join(answer.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a_small_photo_carrying_its_location_reaches_tiktok_without_it(
    client: Any, settings: Any, workspace: Any, fmt: str
) -> None:
    original = photo(600, 800, fmt=fmt, gps=True)
    assert dict(Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)) == GPS_POSITION
    asset = upload(workspace, original, name=f"IMG_0002.{fmt.lower()}")

    assert asset.private_exif is True
    assert default_storage.open(str(asset.file.name)).read() == original  # the library's copy
    served = served_by_public_link(client, settings, asset)
    sent = Image.open(io.BytesIO(served))
    assert (sent.format, sent.size) == ("JPEG", (600, 800))  # within 1080p: not scaled
    assert not sent.getexif().get_ifd(GPS_IFD) and not sent.getexif()
    assert b"Exif" not in served and b"GPS" not in served


@pytest.mark.django_db
def test_a_small_photo_turned_by_exif_is_sent_upright(
    client: Any, settings: Any, workspace: Any
) -> None:
    asset = upload(workspace, photo(800, 600, orientation=6))
    sent = Image.open(io.BytesIO(served_by_public_link(client, settings, asset)))
    assert sent.size == (600, 800) and ORIENTATION not in sent.getexif()
    assert _near(sent.getpixel((590, 10)), RED) and _near(sent.getpixel((10, 10)), BLUE)


@pytest.mark.django_db
def test_an_upload_decodes_a_large_photo_once(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    decodes = []
    load = ImageFile.ImageFile.load

    def counted(img: Any) -> Any:
        if img.tile:  # pixels still to decode from the file
            decodes.append(img.size)
        return load(img)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    asset = upload(workspace, photo(3024, 4032, gps=True))
    assert len(decodes) == 1
    assert asset.rendition and asset.thumbnail
    with default_storage.open(str(asset.thumbnail.name)) as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (240, 320)


def _stored_before_exif_was_read(workspace: Any, data: bytes, size: tuple[int, int]) -> MediaAsset:
    """A photo as a version without renditions (or without the EXIF check) stored it."""
    asset = upload(workspace, photo(100, 100))
    with default_storage.open(str(asset.file.name), "wb") as fh:
        fh.write(data)
    MediaAsset.objects.for_workspace(workspace).filter(pk=asset.pk).update(
        width=size[0], height=size[1], private_exif=None
    )
    asset.refresh_from_db()
    return asset


def _files_of(workspace: Any) -> set[str]:
    return set(default_storage.listdir(f"media/{workspace.id}")[1])


@pytest.mark.django_db
def test_the_publish_check_only_reads_and_preparing_makes_the_rendition(
    workspace: Any, client: Any, settings: Any
) -> None:
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.later.test/public-media/"
    asset = _stored_before_exif_was_read(workspace, photo(600, 800, gps=True), (600, 800))
    post = PostFactory.create(workspace=workspace, media=asset)
    files = _files_of(workspace)

    code, _ = pull.pull_refusal(post) or ("", "")
    assert code == "photo_unreadable"  # not read yet: never served as uploaded
    assert (
        _files_of(workspace) == files
        and not MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk).rendition
    )

    pull.photos_prepare(post)
    assert pull.pull_refusal(post) is None
    stored = MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk)
    assert stored.private_exif is True and stored.rendition
    assert not Image.open(io.BytesIO(served_by_public_link(client, settings, stored))).getexif()


@pytest.mark.django_db
def test_a_rolled_back_import_preview_leaves_no_rendition_file(
    workspace: Any, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = TikTokAccountFactory.create(workspace=workspace)
    asset = _stored_before_exif_was_read(workspace, photo(3024, 4032), (3024, 4032))
    asset.original_name = "phone.jpg"
    asset.save()
    files = _files_of(workspace)
    content = "account,date,time,caption,privacy,toggles,media file name,dst\n"
    content += f"{account.username},,,Draft,,,phone.jpg,\n"
    with django_capture_on_commit_callbacks(execute=True):
        preview = bulk.import_preview(
            workspace=workspace, user=editor, file_name="plan.csv", content=content.encode()
        )
    assert [r["status"] for r in preview.result] == ["ok"]
    assert _files_of(workspace) == files  # the preview rolled back: no file written
    assert not MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk).rendition

    with django_capture_on_commit_callbacks(execute=True):
        bulk.import_confirm(workspace=workspace, user=editor, post_import=preview)
    stored = MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk)
    assert (stored.rendition_width, stored.rendition_height) == (1080, 1440)
    assert _files_of(workspace) == files | {str(stored.rendition.name).rsplit("/", 1)[1]}


@pytest.mark.django_db
def test_a_refused_queue_leaves_no_rendition_file(
    workspace: Any, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    slotted, unslotted = (TikTokAccountFactory.create(workspace=workspace) for _ in range(2))
    queue.slots_replace(
        workspace=workspace,
        account=slotted,
        slots=[queue.SlotTime(weekday=day, time=time(9, 0)) for day in range(7)],
    )
    asset = _stored_before_exif_was_read(workspace, photo(600, 800, gps=True), (600, 800))
    files = _files_of(workspace)
    with pytest.raises(AppError) as refused, django_capture_on_commit_callbacks(execute=True):
        # The first account's post is made (its photo read), then the second has no slot.
        queue.post_create_queued(
            workspace=workspace,
            user=editor,
            content=services.PostContent(media_id=asset.id, post_mode=PostMode.INBOX),
            targets=[
                services.PostTarget(account_id=account.id, privacy_level="SELF_ONLY")
                for account in (slotted, unslotted)
            ],
            acknowledge_warnings=True,
        )
    assert refused.value.code == "no_posting_slots"
    assert not Post.objects.for_workspace(workspace).exists()
    assert _files_of(workspace) == files
    assert not MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk).rendition


def test_the_rendition_is_kept_under_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    noisy = Image.effect_noise((3024, 4032), 120).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    first = renditions.photo_copies(io.BytesIO(out.getvalue())).rendition
    assert first is not None
    monkeypatch.setattr(renditions, "MAX_PHOTO_BYTES", len(first.data) - 1)
    smaller = renditions.photo_copies(io.BytesIO(out.getvalue())).rendition
    assert smaller is not None
    assert len(smaller.data) < len(first.data) and smaller.width == 1080
    monkeypatch.setattr(renditions, "MAX_PHOTO_BYTES", 1000)
    with pytest.raises(renditions.RenditionFailed):
        renditions.photo_copies(io.BytesIO(out.getvalue()))


@pytest.mark.django_db
def test_an_unreadable_photo_over_1080p_is_refused_at_upload_clearly(
    workspace: Any, editor: Any, client_for: Any
) -> None:
    # Its header says 3024x4032; there is no image data behind it.
    with pytest.raises(MediaRejected) as exc:
        upload(workspace, tiny_jpeg(3024, 4032))
    assert exc.value.code == "photo_unreadable"
    assert "3024x4032" in exc.value.message and "TikTok-sized copy" in exc.value.message

    answer = client_for(editor).post(
        reverse("calendar_app:media", args=[workspace.id]),
        {"file": SimpleUploadedFile("IMG.jpg", tiny_jpeg(3024, 4032))},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 400
    assert "export it again as JPEG" in answer.json()["error"]["message"]
    assert not MediaAsset.objects.for_workspace(workspace).exists()
    assert not default_storage.exists(f"media/{workspace.id}")  # no blob left behind


@pytest.mark.django_db
def test_the_public_link_serves_the_rendition_as_jpeg(
    client: Any, settings: Any, workspace: Any
) -> None:
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.later.test/public-media/"
    asset = upload(workspace, photo(2160, 3840, fmt="WEBP"), name="big.webp")
    url = public_media_url(asset)
    assert url.endswith(f"/{asset.pk}.jpg")  # TikTok reads the extension

    answer = client.get(url.replace("https://media.later.test", ""))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    served = b"".join(answer.streaming_content)
    assert served == default_storage.open(str(asset.rendition.name)).read()
    assert Image.open(io.BytesIO(served)).size == (1080, 1920)
    stale = url.replace(".jpg", ".webp").replace("https://media.later.test", "")
    assert client.get(stale).status_code == 404


@pytest.mark.django_db
def test_deleting_a_photo_deletes_its_rendition(
    workspace: Any, django_capture_on_commit_callbacks: Any
) -> None:
    asset = upload(workspace, photo(3024, 4032))
    name = str(asset.rendition.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.media_delete(workspace=workspace, media=asset)
    assert not default_storage.exists(name)


@pytest.mark.django_db
def test_a_photo_stored_before_renditions_gets_one_when_first_needed(workspace: Any) -> None:
    asset = upload(workspace, photo(1000, 1000))  # within 1080p: none made
    with default_storage.open(str(asset.file.name), "wb") as fh:
        fh.write(photo(3024, 4032))  # as if stored by a version without renditions
    MediaAsset.objects.for_workspace(workspace).filter(pk=asset.pk).update(width=3024, height=4032)
    asset.refresh_from_db()

    assert renditions.media_rendition_ensure(media=asset)
    stored = MediaAsset.objects.for_workspace(workspace).get(pk=asset.pk)
    assert (stored.rendition_width, stored.rendition_height) == (1080, 1440)
    assert renditions.media_rendition_ensure(media=stored)  # made once, then found
    assert stored.rendition.name == asset.rendition.name


def _near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(pixel, colour, strict=True))
