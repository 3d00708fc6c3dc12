"""Compile `trayagent.translate` with mypyc into the compiled build trayagent/compiled.py describes
(`<sys.prefix>/trayagent-compiled`), unless the build there already matches the sources.

The package is copied to a scratch directory (mypyc type-checks what the translators import) and compiled
there, so an edit made meanwhile cannot end up in a build recorded as older sources. The new build replaces the
old one only once it is complete and its modules import; a build that fails leaves the translators on pure
Python, which is the same code, and says why. About a minute on two cores, once per change to the translators.

    python scripts/compile_translators.py [--force]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from trayagent import compiled  # noqa: E402  (the repository's trayagent, not an installed one)
from trayagent.files.filelock import locked  # noqa: E402

SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify

modules = sys.argv[1:]
del sys.argv[1:]
sys.argv += ["build_ext", "--build-lib", {out!r}, "--build-temp", {obj!r}, "--parallel", "2"]
setup(
    name="trayagent-compiled",
    packages=[],
    ext_modules=mypycify(modules, group_name="trayagent.translate.native", target_dir={c!r}),
)
"""
SMOKE = "import trayagent.translate as t, trayagent.translate.gemini; assert t.RUNS_AS == 'compiled', t.RUNS_AS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="build even when the build matches the sources")
    args = parser.parse_args()
    build = compiled.BUILD
    build.parent.mkdir(parents=True, exist_ok=True)
    # One compile at a time per venv: a second `make` waits, then finds the build up to date.
    with locked(build.with_name(build.name + ".lock")):
        return _compile(build, args.force)


def _compile(build: Path, force: bool) -> int:
    if not force and _current(build):
        (build / compiled.MANIFEST).touch()  # newer than the sources again, for make
        print(f"compile: the compiled translators in {build} are up to date")
        return 0
    with tempfile.TemporaryDirectory(prefix="trayagent-compile-") as scratch:
        root = Path(scratch)
        source = root / "src"
        shutil.copytree(compiled.PACKAGE, source / "trayagent", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        modules = [f"trayagent/{name}" for name in compiled.compiled_sources(source / "trayagent")]
        out = root / "out"
        (source / "setup.py").write_text(SETUP.format(out=str(out), obj=str(root / "obj"), c=str(root / "c")))
        print(f"compile: compiling {len(modules)} translate modules with mypyc (about a minute)…", flush=True)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "setup.py", *modules], cwd=source, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            return _failed(f"mypyc failed:\n{(done.stdout + done.stderr).strip()[-3000:]}")
        (out / compiled.MANIFEST).write_bytes(compiled.manifest(source / "trayagent"))
        _replace(build, out)
    check = subprocess.run([sys.executable, "-c", SMOKE], cwd=REPO, capture_output=True, text=True, timeout=120)
    if check.returncode != 0:
        shutil.rmtree(build, ignore_errors=True)
        return _failed(f"the compiled modules do not import:\n{check.stderr.strip()[-3000:]}")
    print(f"compile: done in {time.monotonic() - started:.0f} s; the translators run compiled from {build}")
    return 0


def _current(build: Path) -> bool:
    try:
        return (build / compiled.MANIFEST).read_bytes() == compiled.manifest()
    except OSError:
        return False


def _replace(build: Path, new: Path) -> None:
    """Put the finished build in place: the old one is moved aside first, then removed (a process running
    from it keeps the files it has loaded)."""
    staged = build.with_name(build.name + ".new")
    old = build.with_name(build.name + ".old")
    for leftover in (staged, old):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(new, staged)
    if build.exists():
        build.rename(old)
    staged.rename(build)
    shutil.rmtree(old, ignore_errors=True)


def _failed(why: str) -> int:
    print(f"compile: {why}\ncompile: the translators run as pure Python (the same code, slower)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
