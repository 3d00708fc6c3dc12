"""Draw trayagent's icon with Pillow: several client lines merging into one gateway, on a rounded tile.

Run `python scripts/make_icons.py` to regenerate assets/trayagent.png (256 px) and the small sizes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TILE = (32, 86, 160, 255)  # deep blue: legible on dark and light panels
INK = (255, 255, 255, 255)
ACCENT = (120, 220, 160, 255)


def draw(size: int) -> Image.Image:
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=TILE)
    width = max(scale, s // 16)
    hub = (int(s * 0.62), s // 2)
    for y in (0.27, 0.5, 0.73):
        start = (int(s * 0.18), int(s * y))
        d.line((start, hub), fill=INK, width=width)
        r = width
        d.ellipse((start[0] - r, start[1] - r, start[0] + r, start[1] + r), fill=INK)
    d.line((hub, (int(s * 0.84), hub[1])), fill=ACCENT, width=width)
    r = int(width * 1.6)
    d.ellipse((hub[0] - r, hub[1] - r, hub[0] + r, hub[1] + r), fill=ACCENT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    draw(256).save(ASSETS / "trayagent.png")
    for size in (16, 32, 64):
        draw(size).save(ASSETS / f"trayagent-{size}.png")


if __name__ == "__main__":
    main()
