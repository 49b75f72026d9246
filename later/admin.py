"""Admin for tenant-owned models: staff cross workspaces through the named `unscoped()` bypass,
here and nowhere implicit, so the fail-closed default manager stays as strict as it is."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.utils import timezone

from later.models import ParkedRetry
from later.tenancy import TenantManager


def is_tenant_model(model: Any) -> bool:
    return isinstance(getattr(model, "_default_manager", None), TenantManager)


class UnscopedRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id widget labels its value through the default manager; a tenant row is looked
    up by primary key alone here, knowingly."""

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        model = self.rel.model
        if not is_tenant_model(model):
            return super().label_and_url_for_value(value)
        manager: Any = model._default_manager
        key = self.rel.get_related_field().name
        try:
            obj = manager.unscoped().using(self.db).get(**{key: value})
        except (ValueError, ObjectDoesNotExist):
            return "", ""
        return self._label_for(obj)

    def _label_for(self, obj: Any) -> tuple[str, str]:
        from django.urls import NoReverseMatch, reverse
        from django.utils.text import Truncator

        try:
            url = reverse(
                f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change",
                args=(obj.pk,),
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class TenantAdmin(admin.ModelAdmin):
    """Lists, change pages and their foreign-key fields see every workspace on purpose."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return self.model._default_manager.unscoped()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.remote_field.model
        if is_tenant_model(related):
            kwargs.setdefault("queryset", related._default_manager.unscoped())
            if db_field.name in self.raw_id_fields and "widget" not in kwargs:
                kwargs["widget"] = UnscopedRawIdWidget(
                    db_field.remote_field, self.admin_site, using=kwargs.get("using")
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ParkedRetry)
class ParkedRetryAdmin(admin.ModelAdmin):
    """Background tasks waiting for their next try after a transient failure (later/retries.py):
    when the next try goes out, how many were sent, and which gave up."""

    list_display = ("label", "subject", "state", "attempts", "max_attempts", "last_error")
    list_filter = ("label", ("gave_up_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "task", "last_error")
    ordering = ("next_attempt_at",)
    fields = (
        "label",
        "task",
        "subject",
        "kwargs",
        "workspace",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "gave_up_at",
        "last_error",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ("try_now",)

    @admin.display(description="State")
    def state(self, obj: ParkedRetry) -> str:
        if obj.gave_up_at is not None:
            return f"gave up at {obj.gave_up_at:%Y-%m-%d %H:%M:%S} UTC"
        if obj.next_attempt_at is not None:
            return f"retrying at {obj.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
        return ""

    @admin.action(description="Try now (a fresh set of retries)", permissions=["view"])
    def try_now(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.update(
            attempts=0, gave_up_at=None, next_attempt_at=timezone.now(), updated_at=timezone.now()
        )
        self.message_user(request, f"{count} sent with the next sweep (within 5 seconds).")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
