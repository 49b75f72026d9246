"""Forms for the composer and the media library (shared fields; per-account fields are parsed
from the creator panels by the view)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms

from calendar_app.models import MediaAsset, PostMode


class MediaUploadForm(forms.Form):
    file = forms.FileField(
        label="Video or photo",
        help_text="MP4, MOV or WebM videos (23-60 fps, 360-4096 px); JPEG or WebP photos.",
    )


class MediaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.original_name)


class ComposerForm(forms.Form):
    caption = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))
    media_id = MediaChoiceField(
        queryset=MediaAsset.objects.none(), required=False, widget=forms.RadioSelect
    )
    post_mode = forms.ChoiceField(
        choices=PostMode.choices, widget=forms.RadioSelect, initial=PostMode.DIRECT
    )
    commercial_content = forms.BooleanField(required=False)
    brand_organic = forms.BooleanField(required=False, label="Your brand")
    brand_content = forms.BooleanField(required=False, label="Branded content")
    is_aigc = forms.BooleanField(required=False, label="AI-generated content")
    cover_timestamp_ms = forms.IntegerField(required=False, min_value=0)
    # A photo carousel: ids in the order ticked and arranged (the browser sends them in page
    # order, which composer.js keeps as the carousel's order), and the cover's id.
    photo_ids = forms.MultipleChoiceField(required=False)
    photo_cover = forms.CharField(required=False, max_length=36)
    title = forms.CharField(required=False, max_length=200)
    auto_add_music = forms.BooleanField(required=False)
    first_comment = forms.CharField(required=False, max_length=500)
    scheduled_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "data-testid": "date"}, format="%Y-%m-%d"),
    )
    scheduled_time = forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "data-testid": "time"}, format="%H:%M"),
    )
    scheduled_tz = forms.CharField(required=False, max_length=64)
    fold = forms.ChoiceField(required=False, choices=[("", ""), ("0", "first"), ("1", "second")])
    acknowledge_warnings = forms.BooleanField(required=False)
    action = forms.ChoiceField(
        choices=[
            ("schedule", "Schedule"),
            ("review", "Submit for review"),
            ("queue", "Add to queue"),
            ("draft", "Save draft"),
        ],
        initial="schedule",
    )

    def __init__(self, *args: Any, media_qs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["media_id"].queryset = media_qs  # type: ignore[attr-defined]
        self.fields["photo_ids"].choices = [  # type: ignore[attr-defined]
            (str(pk), str(pk)) for pk in media_qs.filter(kind="image").values_list("pk", flat=True)
        ]

    def clean_scheduled_tz(self) -> str:
        value: str = self.cleaned_data.get("scheduled_tz") or ""
        if value and value not in zoneinfo.available_timezones():
            raise forms.ValidationError(
                f"“{value}” is not a time zone we know; use an IANA name such as Europe/Paris."
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("scheduled_date")) != bool(data.get("scheduled_time")):
            raise forms.ValidationError("Give both a date and a time, or neither for a draft.")
        return data
