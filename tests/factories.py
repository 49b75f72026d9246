"""factory_boy factories for the foundation models; apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import factory

from accounts.models import Membership, Role, TikTokAccount, User, Workspace


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Client {n}")
    time_zone = "Europe/Paris"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EDITOR


class TikTokAccountFactory(factory.django.DjangoModelFactory[TikTokAccount]):
    class Meta:
        model = TikTokAccount

    workspace = factory.SubFactory(WorkspaceFactory)
    open_id = factory.Sequence(lambda n: f"open-id-{n}")
    username = factory.Sequence(lambda n: f"creator{n}")
    display_name = factory.Sequence(lambda n: f"Creator {n}")
    scopes = ["user.info.basic", "video.publish", "video.upload", "video.list"]
