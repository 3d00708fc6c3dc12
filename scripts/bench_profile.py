"""Where a server's time goes, from py-spy's raw (collapsed) stacks: own time per function and per package.

`make bench BENCH_ARGS="--profile DIR"` records the proxy under load with py-spy (when it is installed) and
prints this summary; run it alone on a recording with `python scripts/bench_profile.py FILE.txt [TOP]`.
Only the event loop's thread counts (other threads mostly sleep, and blocking sampling sees them anyway).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")
_FRAME = re.compile(r"(?P<func>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")
_LIBRARIES = ("sanic", "aiohttp", "asyncio", "prometheus_client", "multidict", "yarl", "re", "uuid", "dataclasses")


def package(frame: str) -> str:
    """The package a frame's code belongs to: trayagent/<module>, a library, or the stdlib module."""
    match = _FRAME.match(frame)
    if match is None:
        return "(native)"
    func, path = match["func"], match["path"]
    if path == func or "/" not in path and "." not in path:
        return "sanic"  # Sanic compiles some hot functions at start-up (its "touchup"); they name no file
    if path.startswith("trayagent/"):
        return path.removesuffix(".py")
    top = path.split("/", 1)[0].removesuffix(".py")
    return top if top in _LIBRARIES else f"stdlib:{top}"


def summarize(path: Path, top: int = 25) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or "(threading.py" in stack:
            continue
        n = int(count)
        total += n
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
        own[frames[-1]] += n
        packages[package(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"{path}: no samples"
    out = [f"{path.name}: {total} samples of the event loop thread"]
    grouped: Counter[str] = Counter()
    for name, n in packages.items():
        grouped["trayagent" if name.startswith("trayagent/") else name] += n
    out.append("  own time by package: " + ", ".join(f"{k} {100 * n / total:.1f}%" for k, n in grouped.most_common(8)))
    ours = [(k, n) for k, n in packages.most_common() if k.startswith("trayagent/")][:10]
    out.append("  trayagent modules:   " + ", ".join(f"{k[10:]} {100 * n / total:.1f}%" for k, n in ours))
    out.append(f"  top {top} functions by own time:")
    out += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    mine = [(f, n) for f, n in inclusive.most_common() if "trayagent/" in f and 100 * n / total < 90][:top]
    out.append(f"  top {top} trayagent functions by inclusive time:")
    out += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in mine]
    return "\n".join(out)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
