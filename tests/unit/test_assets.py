"""The shipped icons: present at every size, transparent corners so they sit on any panel colour."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

ASSETS = Path(__file__).resolve().parents[2] / "assets"


@pytest.mark.parametrize(("name", "size"), [("trayagent.png", 256), *((f"trayagent-{s}.png", s) for s in (16, 32, 64))])
def test_icon(name: str, size: int) -> None:
    with Image.open(ASSETS / name) as image:
        assert image.size == (size, size) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] < 32  # type: ignore[index]
        assert image.getpixel((size // 2, size // 2))[3] == 255  # type: ignore[index]
