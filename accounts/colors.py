"""Calendar colours of TikTok accounts: each new one as far from the others as possible."""

from __future__ import annotations

import colorsys
import re
from collections.abc import Iterable

from later.errors import ValidationFailed

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Saturation and lightness of assigned colours: vivid, and dark enough for a white label.
SATURATION, LIGHTNESS = 0.72, 0.45
CANDIDATES = 72  # every 5 degrees


def hue_of(color: str) -> float | None:
    """Hue in degrees, or None for an unreadable value or a grey."""
    if not HEX.match(color or ""):
        return None
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _lightness, s = colorsys.rgb_to_hls(r, g, b)
    return None if s < 0.08 else h * 360


def _hex(hue: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue / 360, LIGHTNESS, SATURATION)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def color_far_from(existing: Iterable[str]) -> str:
    """The colour whose hue is farthest (around the wheel) from every colour in use."""
    hues = [h for h in (hue_of(c) for c in existing) if h is not None]
    if not hues:
        return _hex(265.0)  # the brand's violet for the first account

    def distance(hue: float) -> float:
        return min(min(abs(hue - h), 360 - abs(hue - h)) for h in hues)

    best = max((i * 360 / CANDIDATES for i in range(CANDIDATES)), key=distance)
    return _hex(best)


def color_clean(value: str) -> str:
    value = (value or "").strip()
    if not HEX.match(value):
        raise ValidationFailed(
            "Choose a colour as #RRGGBB (for example #7c3aed).",
            code="invalid_color",
            details={"color": ["Invalid."]},
        )
    return value.lower()
