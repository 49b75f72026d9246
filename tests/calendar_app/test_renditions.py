"""TikTok-ready renditions of library photos over 1080p: made at upload through the real upload
path, served by the signed public link, the original kept and shown by the library."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms

from calendar_app import renditions, services
from calendar_app.media import MediaRejected
from calendar_app.models import MediaAsset
from calendar_app.public_media import public_media_url
from tests.calendar_app.photo_factories import BLUE, ORIENTATION, RED, photo
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
    assert renditions.served_file(asset) == (asset.file.name, "image/jpeg")


def test_the_rendition_is_kept_under_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    noisy = Image.effect_noise((3024, 4032), 120).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    first = renditions.render(io.BytesIO(out.getvalue()))
    monkeypatch.setattr(renditions, "MAX_PHOTO_BYTES", len(first.data) - 1)
    smaller = renditions.render(io.BytesIO(out.getvalue()))
    assert len(smaller.data) < len(first.data) and smaller.width == 1080
    monkeypatch.setattr(renditions, "MAX_PHOTO_BYTES", 1000)
    with pytest.raises(renditions.RenditionFailed):
        renditions.render(io.BytesIO(out.getvalue()))


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
