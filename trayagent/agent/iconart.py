"""The tray icon's pictures: the app icon from assets/ marked with the proxy's state.

running = the icon as shipped; stopped = the same tile in grey; error = the icon with a red "!" badge.
Each is composed at 256 px and scaled down once, so it stays crisp from 16 to 64 px, and keeps the
transparent corners and white strokes that read on dark and light panels alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageOps

IconState = Literal["running", "stopped", "error"]
MASTER = "trayagent.png"
BADGE_RED = (214, 40, 40, 255)
WHITE = (255, 255, 255, 255)


def asset_path(name: str = MASTER) -> Path:
    """An icon file: packaged in the wheel (trayagent/assets/), else the source tree's assets/."""
    packaged = resources.files("trayagent").joinpath("assets", name)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "assets" / name


def _master() -> Image.Image:
    with Image.open(asset_path()) as image:
        return image.convert("RGBA").resize((256, 256), Image.Resampling.LANCZOS)


def _greyed(image: Image.Image) -> Image.Image:
    alpha = image.getchannel("A")
    grey = ImageOps.grayscale(image)
    # Lift the dark tile to mid grey: still visible on a dark panel, still clearly "off" on a light one.
    grey = grey.point(lambda v: 64 + v * 176 // 255)
    out = Image.merge("RGBA", (grey, grey, grey, alpha))
    return out


def _with_badge(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    s = out.width
    r = int(s * 0.25)
    cx, cy = s - r - 2, s - r - 2
    draw.ellipse((cx - r - 8, cy - r - 8, cx + r + 8, cy + r + 8), fill=WHITE)  # ring: separates badge and tile
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=BADGE_RED)
    w = max(6, r // 3)
    left, right = cx - w // 2, cx + w // 2
    draw.rounded_rectangle((left, cy - int(r * 0.62), right, cy + int(r * 0.18)), radius=w // 2, fill=WHITE)
    draw.ellipse((left, cy + int(r * 0.35), right, cy + int(r * 0.35) + w), fill=WHITE)
    return out


def icon_image(state: IconState, size: int = 64) -> Image.Image:
    master = _master()
    if state == "stopped":
        master = _greyed(master)
    elif state == "error":
        master = _with_badge(master)
    return master.resize((size, size), Image.Resampling.LANCZOS)
