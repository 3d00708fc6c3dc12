"""The compiled front ends (trayagent/compiled.py): used exactly when the build matches the sources being run,
pure Python otherwise, and the pure form a complete fallback.

The decision is tested on a package tree of its own under tmp_path; the real import is tested against the venv's
build, whichever way it went (with REQUIRE_COMPILED=1, as in CI, the translators must be the compiled ones).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import trayagent.translate
import trayagent.translate.openai_responses
from trayagent import compiled

REPO = Path(__file__).resolve().parents[2]


def _package(root: Path) -> Path:
    """A trayagent package tree with files the build depends on and files it leaves alone."""
    package = root / "trayagent"
    (package / "translate").mkdir(parents=True)
    for name, text in {
        "translate/__init__.py": "",
        "translate/hub.py": "HUB = 1\n",
        "translate/gemini.py": "GEMINI = 1\n",
        "translate/thinking.py": "THINKING = 1\n",
        "errors.py": "ERRORS = 1\n",
        "frozen.py": "FROZEN = 1\n",
        "config.py": "CONFIG = 1\n",
    }.items():
        (package / name).write_text(text)
    return package


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(package, build): a build whose manifest matches the package, as scripts/compile_translators.py writes."""
    monkeypatch.delenv(compiled.PURE_VARIABLE, raising=False)
    package = _package(tmp_path / "src")
    build = tmp_path / "build"
    (build / "trayagent" / "translate").mkdir(parents=True)
    (build / compiled.MANIFEST).write_bytes(compiled.manifest(package))
    return package, build


def _decide(package: Path, build: Path) -> tuple[list[str], str]:
    return compiled.search_path([str(package / "translate")], package, build)


def test_a_build_of_these_sources_comes_first_on_the_package_path(tree: tuple[Path, Path]) -> None:
    package, build = tree
    path, status = _decide(package, build)
    assert status == "compiled"
    assert path == [str(build / "trayagent" / "translate"), str(package / "translate")]


def test_the_build_covers_the_translate_modules_and_what_they_import_not_init_or_hub(tmp_path: Path) -> None:
    package = _package(tmp_path)
    assert compiled.compiled_sources(package) == ["translate/gemini.py", "translate/thinking.py"]
    assert set(compiled.fingerprint(package)) == {"translate/gemini.py", "translate/thinking.py", *compiled.IMPORTED}


@pytest.mark.parametrize(
    "change",
    [
        "translate/gemini.py",  # a compiled module edited
        "errors.py",  # a module the compiled ones import
    ],
)
def test_an_edited_source_runs_as_pure_python_until_the_next_build(tree: tuple[Path, Path], change: str) -> None:
    package, build = tree
    (package / change).write_text("EDITED = 2\n")
    path, status = _decide(package, build)
    assert path == [str(package / "translate")]
    assert status == "pure Python (the sources changed since the compiled build; `make` rebuilds it)"


def test_a_translate_module_added_or_removed_since_the_build_means_pure_python(tree: tuple[Path, Path]) -> None:
    package, build = tree
    (package / "translate" / "media.py").write_text("MEDIA = 1\n")
    assert _decide(package, build)[1].startswith("pure Python (the sources changed")
    (package / "translate" / "media.py").unlink()
    assert _decide(package, build)[1] == "compiled"
    (package / "translate" / "thinking.py").unlink()
    assert _decide(package, build)[1].startswith("pure Python (the sources changed")


def test_modules_the_build_does_not_depend_on_can_change(tree: tuple[Path, Path]) -> None:
    package, build = tree
    (package / "config.py").write_text("CONFIG = 2\n")
    (package / "translate" / "hub.py").write_text("HUB = 2\n")
    assert _decide(package, build)[1] == "compiled"


def test_no_build_a_broken_manifest_or_another_python_means_pure_python(tree: tuple[Path, Path]) -> None:
    package, build = tree
    manifest = build / compiled.MANIFEST
    recorded = orjson.loads(manifest.read_bytes())
    manifest.write_bytes(orjson.dumps({**recorded, "python": "cpython-399"}))
    assert _decide(package, build) == (
        [str(package / "translate")],
        "pure Python (the compiled build is for another Python)",
    )
    manifest.write_bytes(b"{half a manif")
    assert _decide(package, build)[1].startswith("pure Python (the compiled build's manifest is unreadable:")
    manifest.unlink()
    assert _decide(package, build) == ([str(package / "translate")], "pure Python (no compiled build)")


def test_the_environment_variable_keeps_pure_python(tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    package, build = tree
    monkeypatch.setenv(compiled.PURE_VARIABLE, "1")
    assert _decide(package, build) == ([str(package / "translate")], "pure Python (TRAYAGENT_PURE_PYTHON is set)")
    monkeypatch.setenv(compiled.PURE_VARIABLE, "0")
    assert _decide(package, build)[1] == "compiled"


def test_the_real_import_follows_the_decision() -> None:
    """This process's front ends: extension modules from the build exactly when the decision said compiled."""
    module_file = trayagent.translate.openai_responses.__file__
    assert module_file is not None
    build_dir = str(compiled.BUILD / "trayagent" / "translate")
    if trayagent.translate.RUNS_AS == "compiled":
        assert trayagent.translate.__path__[0] == build_dir
        assert module_file.startswith(build_dir) and module_file.endswith(".so")
    else:
        assert build_dir not in trayagent.translate.__path__
        assert module_file == str(REPO / "trayagent" / "translate" / "openai_responses.py")
    if os.environ.get("REQUIRE_COMPILED") == "1":
        assert trayagent.translate.RUNS_AS == "compiled", (
            "REQUIRE_COMPILED=1: `make` should have compiled the front ends"
        )


@pytest.mark.timeout(600)
def test_the_front_ends_pass_their_golden_and_protocol_tests_as_pure_python() -> None:
    """The fallback is the same code: the translators' own tests, in a child that runs them uncompiled."""
    tests = sorted(str(path.relative_to(REPO)) for path in (REPO / "tests" / "unit").glob("test_golden_*.py"))
    tests += [
        "tests/unit/test_openai_responses.py",
        "tests/unit/test_anthropic_frontend.py",
        "tests/unit/test_schema.py",
    ]
    code = (
        "import sys, pytest, trayagent.translate as t\n"
        "assert t.RUNS_AS.startswith('pure Python'), t.RUNS_AS\n"
        "sys.exit(pytest.main(sys.argv[1:]))\n"
    )
    env = {**os.environ, compiled.PURE_VARIABLE: "1"}
    done = subprocess.run(
        [sys.executable, "-c", code, "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def _compile(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compile_translators.py"), *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=540,
    )


def _build_state() -> bytes | None:
    try:
        return (compiled.BUILD / compiled.MANIFEST).read_bytes()
    except FileNotFoundError:
        return None


@pytest.mark.timeout(600)
def test_a_build_that_fails_says_so_and_leaves_the_build_in_place() -> None:
    """No working C compiler (CC=false): a clear failure, exit 1, and whatever was installed is untouched."""
    before = _build_state()
    done = _compile("--force", CC="false")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "compile: mypyc failed" in done.stderr
    assert "the translators run as pure Python (the same code, slower)" in done.stderr
    assert _build_state() == before


def test_an_up_to_date_build_is_not_compiled_again() -> None:
    if trayagent.translate.RUNS_AS != "compiled":
        pytest.skip(f"the front ends are not compiled here: {trayagent.translate.RUNS_AS}")
    done = _compile()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"compile: the compiled translators in {compiled.BUILD} are up to date"
