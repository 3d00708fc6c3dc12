"""The tray icon's three pictures: distinct, sharp at panel sizes, readable on dark and light panels."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from trayagent.agent.iconart import icon_image

SIZES = (16, 22, 24, 32, 48, 64)


@pytest.mark.parametrize("size", SIZES)
def test_every_state_at_every_size(size: int) -> None:
    images = {state: icon_image(state, size) for state in ("running", "stopped", "error")}
    for image in images.values():
        assert image.size == (size, size) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] < 32  # type: ignore[index]  # transparent corner: any panel colour
    # Each state looks different from the others, at every size.
    for a, b in (("running", "stopped"), ("running", "error"), ("stopped", "error")):
        diff = ImageChops.difference(images[a].convert("RGB"), images[b].convert("RGB")).getbbox()
        assert diff is not None, (a, b, size)


def _pixels(image: Image.Image) -> list[tuple[int, ...]]:
    access = image.load()
    assert access is not None
    return [access[x, y] for y in range(image.height) for x in range(image.width)]  # type: ignore[misc]


def _colour_count(image: Image.Image, test: object) -> int:
    return sum(1 for px in _pixels(image) if px[3] > 200 and test(px))  # type: ignore[operator]


def test_stopped_is_grey_and_error_carries_a_red_badge_even_at_16px() -> None:
    stopped, error = icon_image("stopped", 16), icon_image("error", 16)
    assert _colour_count(stopped, lambda p: max(p[:3]) - min(p[:3]) > 24) == 0  # no colour left
    reds = _colour_count(error, lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90)
    assert reds >= 8  # a visible badge, not a stray pixel
    # The badge sits in the bottom-right quarter.
    corner = error.crop((8, 8, 16, 16))
    assert _colour_count(corner, lambda p: p[0] > 150 and p[1] < 90 and p[2] < 90) == reds


def test_contrast_on_dark_and_light_panels() -> None:
    for state in ("running", "stopped", "error"):
        image = icon_image(state, 32)
        for panel in ((24, 24, 24), (240, 240, 240)):
            canvas = Image.new("RGBA", image.size, (*panel, 255))
            canvas.alpha_composite(image)
            lum = [sum(px[:3]) / 3 for px in _pixels(canvas.crop((8, 8, 24, 24)))]
            panel_lum = sum(panel) / 3
            assert max(abs(v - panel_lum) for v in lum) > 80, (state, panel)
