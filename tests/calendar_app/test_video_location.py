"""Videos reach TikTok without the place they were filmed, uploaded in chunks or pulled from the
public link; the library keeps the original as it was uploaded (calendar_app/video_location.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage

from accounts.models import Workspace
from calendar_app import services
from calendar_app.models import MediaAsset, PostStatus
from calendar_app.public_media import public_media_url
from calendar_app.publishing import dispatch
from calendar_app.video_location import LocationFreeFile, location_offsets, without_location
from tests.calendar_app.publishing_factories import (
    INIT,
    Sim,
    connect_account,
    make_post,
    pub_sim,
    run_until_settled,
)
from tests.media_samples import LOCATIONS, PLACE, mp4, webm
from tiktok_client.media_probe import location_boxes, read_mp4
from tiktok_client.simulator.media_checks import ReceivedMedia

__all__ = ["pub_sim"]

PLACES = [name for name in LOCATIONS if name != "apple-no-place"]


def _upload(workspace: Workspace, data: bytes, name: str = "IMG_0420.mov") -> MediaAsset:
    return services.media_upload(
        workspace=workspace, user=None, upload=io.BytesIO(data), original_name=name
    )


def _stored(asset: MediaAsset) -> bytes:
    with default_storage.open(str(asset.file.name), "rb") as fh:
        data: bytes = fh.read()
    return data


def _served(client: Any, settings: Any, asset: MediaAsset) -> Any:
    settings.MEDIA_PUBLIC_BASE_URL = "https://media.later.test/public-media/"
    return client.get(public_media_url(asset).replace("https://media.later.test", ""))


@pytest.mark.parametrize("place", PLACES)
def test_each_way_phones_write_a_place_is_found_and_freed(place: str) -> None:
    original = mp4(location=place)
    offsets = location_boxes(io.BytesIO(original), len(original))
    assert offsets

    sent = without_location(original, 0, offsets)

    assert len(sent) == len(original)
    assert location_boxes(io.BytesIO(sent), len(sent)) == ()
    assert read_mp4(io.BytesIO(sent), len(sent)) == read_mp4(io.BytesIO(original), len(original))


def test_metadata_without_a_place_is_left_alone() -> None:
    for data in (mp4(), mp4(location="apple-no-place")):
        assert location_boxes(io.BytesIO(data), len(data)) == ()


def test_a_box_type_split_between_two_chunks_is_freed_in_both() -> None:
    original = mp4(location="android")
    (offset,) = location_boxes(io.BytesIO(original), len(original))
    cut = offset + 2  # "\xa9x" in the first chunk, "yz" in the second

    first = without_location(original[:cut], 0, [offset])
    second = without_location(original[cut:], cut, [offset])

    assert first[-2:] == b"fr" and second[:2] == b"ee"
    assert first + second == without_location(original, 0, [offset])


def test_webm_and_damaged_files_are_sent_as_they_are() -> None:
    assert location_offsets(io.BytesIO(webm())) == ()
    damaged = mp4(location="android")[:300]  # the moov box runs past the end
    assert location_offsets(io.BytesIO(damaged)) == ()


@pytest.mark.django_db
def test_an_uploaded_video_reaches_tiktok_without_its_place_and_publishes(
    pub_sim: Sim, workspace: Workspace
) -> None:
    original = mp4(256 * 1024, location="apple")
    asset = _upload(workspace, original)
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, media=asset, caption="filmed at home")

    token = dict(dispatch.posts_dispatch_due())[post.pk]
    run_until_settled(post, token)

    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert pub_sim.state.counters.requests_to(INIT) == 1
    (publish,) = pub_sim.publishes_by_title()["filmed at home"]
    assert publish.received_video is not None and publish.received_video.facts is not None
    assert publish.received_video.location is False
    # The library keeps what was uploaded.
    assert _stored(asset) == original


def test_the_simulator_sees_a_place_in_a_video_sent_as_it_was() -> None:
    """The check above can fail: TikTok's side notices a place when one arrives."""
    received = ReceivedMedia()
    received.feed(mp4(location="android"))
    assert received.finish().location is True


@pytest.mark.django_db
@pytest.mark.parametrize("place", ["android", "apple"])
def test_the_public_link_serves_a_video_without_its_place(
    client: Any, settings: Any, workspace: Workspace, place: str
) -> None:
    original = mp4(128 * 1024, location=place)
    asset = _upload(workspace, original, name="clip.mp4")

    answer = _served(client, settings, asset)
    served = b"".join(answer.streaming_content)

    assert answer.status_code == 200
    assert int(answer["Content-Length"]) == len(original) == len(served)
    assert PLACE in original and location_boxes(io.BytesIO(served), len(served)) == ()
    assert read_mp4(io.BytesIO(served), len(served)) == read_mp4(
        io.BytesIO(original), len(original)
    )
    assert _stored(asset) == original


def test_the_served_file_cannot_be_sent_past_the_patch() -> None:
    """Servers send a file with a descriptor by sendfile(2), the bytes on disk as they are."""
    served = LocationFreeFile(io.BytesIO(mp4(location="android")))
    assert not hasattr(served, "fileno")
