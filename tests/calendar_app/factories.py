"""Factories for media and posts (the file is a placeholder blob; real files come from
the make_media fixture)."""

from __future__ import annotations

import factory
from django.core.files.base import ContentFile

from calendar_app.models import MediaAsset, Post, PostStatus
from tests.factories import TikTokAccountFactory, WorkspaceFactory
from tests.media_samples import mp4


class MediaAssetFactory(factory.django.DjangoModelFactory[MediaAsset]):
    class Meta:
        model = MediaAsset

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = "video"
    file = factory.LazyFunction(lambda: ContentFile(mp4(1000, seconds=12.0), name="v.mp4"))
    original_name = "clip.mp4"
    content_type = "video/mp4"
    size_bytes = 1000
    duration_seconds = 12.0
    width = 720
    height = 1280
    frame_rate = 30.0
    # As upload records it: a photo's EXIF was read and carries no location.
    private_exif = factory.LazyAttribute(lambda asset: False if asset.kind == "image" else None)


class PostFactory(factory.django.DjangoModelFactory[Post]):
    class Meta:
        model = Post

    workspace = factory.SubFactory(WorkspaceFactory)
    account = factory.SubFactory(
        TikTokAccountFactory, workspace=factory.SelfAttribute("..workspace")
    )
    media = factory.SubFactory(MediaAssetFactory, workspace=factory.SelfAttribute("..workspace"))
    caption = factory.Sequence(lambda n: f"Post {n} #later")
    privacy_level = "PUBLIC_TO_EVERYONE"
    status = PostStatus.SCHEDULED
    scheduled_tz = "Europe/Paris"
