"""The real client CLIs (Claude Code, Codex CLI, Gemini CLI) as test subjects, pointed at a proxy.

`scripts/install-clients` puts them in .clients/ ($CLIENTS_DIR); a test asks for one with the `real_client`
fixture and skips, saying how to install it, when it is not there (with REQUIRE_REAL_CLIENTS=1, as in CI, a
missing CLI fails instead). Every run has a private HOME and config under tmp_path, no telemetry, no update
check, few retries unless a test asks for the CLI's own, a timeout that kills the CLI's whole process group,
and leaves its command, exit code, time, stdout and stderr in test-artifacts/clients/<test>/ for a person.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.accountproxy import SignedInProxy, signed_in_proxy
from tests.fakes.google import FakeGoogle
from tests.serverproc import REPO
from trayagent.translate.models import KNOWN_UPSTREAM_MODELS

CLIENTS = Path(os.environ.get("CLIENTS_DIR") or REPO / ".clients")
ARTIFACTS = REPO / "test-artifacts" / "clients"
KEY_VAR = "TRAYAGENT_PROXY_KEY"  # Codex reads its key from the variable its provider names
# Settings from the developer's shell that would point a CLI elsewhere or change how it behaves.
FOREIGN_PREFIXES = ("ANTHROPIC_", "CLAUDE", "OPENAI_", "CODEX_", "GEMINI_", "GOOGLE_", "XDG_", "NPM_", "NODE_")
FOREIGN_NAMES = {"CI", "DISPLAY", "WAYLAND_DISPLAY", "TERM", "COLORTERM", "DEBUG", "DISABLE_TELEMETRY"}


@dataclass(frozen=True)
class CliRun:
    args: list[str]
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    log: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"{' '.join(self.args[:3])}… exit {self.returncode} after {self.seconds:.1f}s; see {self.log}"


class RealClient:
    """One CLI with its own home, pointed at `base_url` with `key`; `run` one prompt at a time."""

    name = ""

    def __init__(self, binary: Path, base_url: str, key: str, root: Path, artifacts: Path) -> None:
        self.binary, self.base_url, self.key = binary, base_url, key
        self.home = root / "home"
        self.workspace = root / "workspace"  # the CLI's working directory: what its file tools see
        self.home.mkdir(parents=True)
        self.workspace.mkdir()
        self.artifacts = artifacts
        self.runs = 0

    def command(self, prompt: str, extra: list[str]) -> list[str]:
        raise NotImplementedError

    def environment(self, own_retries: bool) -> dict[str, str]:
        """Write this CLI's config under self.home for the next run; return the variables it needs on top
        of the common ones. `own_retries`: keep the CLI's own retry policy instead of one retry at most."""
        raise NotImplementedError

    def run(self, prompt: str, *extra: str, timeout: float = 90, own_retries: bool = False) -> CliRun:
        args = [str(self.binary), *self.command(prompt, list(extra))]
        env = self._base_env() | self.environment(own_retries)
        started = time.monotonic()
        proc = subprocess.Popen(
            args,
            cwd=self.workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the CLIs start helpers (Node relaunches, native binaries): kill them all
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            stdout, stderr = proc.communicate(timeout=10)
            code = None
        finally:
            _kill_group(proc.pid)  # helpers the CLI left behind go too
            if proc.poll() is None:
                proc.wait(10)
        seconds = time.monotonic() - started
        self.runs += 1
        log = self.artifacts / f"{self.runs}-{self.name}.log"
        result = CliRun(args, code, stdout, stderr, seconds, log)
        self._record(result, env)
        return result

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES) and k not in FOREIGN_NAMES}
        env.update(
            HOME=str(self.home),
            PATH=os.pathsep.join([str(CLIENTS / "bin"), env.get("PATH", "/usr/bin:/bin")]),
            NO_COLOR="1",
            LANG="C.UTF-8",
            TMPDIR=str(self.home / "tmp"),
            NO_PROXY="127.0.0.1,localhost",  # a developer's HTTP proxy must not sit between CLI and proxy
            no_proxy="127.0.0.1,localhost",
        )
        (self.home / "tmp").mkdir(exist_ok=True)
        return env

    def _record(self, result: CliRun, env: dict[str, str]) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        ours = {k: v for k, v in env.items() if os.environ.get(k) != v and k != "PATH"}
        lines = [
            f"$ {shlex.join(result.args)}",
            f"cwd: {self.workspace}",
            f"env: {json.dumps(ours, indent=1, sort_keys=True)}",
            f"exit: {'killed at the timeout' if result.returncode is None else result.returncode}",
            f"seconds: {result.seconds:.1f}",
            "----- stdout -----",
            result.stdout,
            "----- stderr -----",
            result.stderr,
        ]
        result.log.write_text("\n".join(lines))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # the whole group has already exited
        pass


class ClaudeCode(RealClient):
    name = "claude"

    def command(self, prompt: str, extra: list[str]) -> list[str]:
        return ["-p", prompt, *extra]

    def environment(self, own_retries: bool) -> dict[str, str]:
        (self.home / ".claude").mkdir(exist_ok=True)
        env = {
            "ANTHROPIC_BASE_URL": self.base_url,
            "ANTHROPIC_API_KEY": self.key,
            "CLAUDE_CONFIG_DIR": str(self.home / ".claude"),
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        if not own_retries:
            env["CLAUDE_CODE_MAX_RETRIES"] = "1"
        return env


class Codex(RealClient):
    name = "codex"

    def environment(self, own_retries: bool) -> dict[str, str]:
        retries = "" if own_retries else "request_max_retries = 1\nstream_max_retries = 1\n"
        (self.home / ".codex").mkdir(exist_ok=True)
        (self.home / ".codex" / "config.toml").write_text(
            'model_provider = "trayagent"\n'
            "check_for_update_on_startup = false\n"
            "[analytics]\n"
            "enabled = false\n"
            "[model_providers.trayagent]\n"
            'name = "trayagent"\n'
            f'base_url = "{self.base_url}/v1"\n'
            f'env_key = "{KEY_VAR}"\n'
            'wire_api = "responses"\n'
            "stream_idle_timeout_ms = 30000\n" + retries
        )
        return {"CODEX_HOME": str(self.home / ".codex"), KEY_VAR: self.key}

    def command(self, prompt: str, extra: list[str]) -> list[str]:
        # Tools need a sandbox Codex cannot set up for a home under /tmp: turn it off (the tests' tools are
        # harmless reads in a scratch workspace).
        return ["exec", "--skip-git-repo-check", "--sandbox", "danger-full-access", *extra, prompt]


class GeminiCli(RealClient):
    name = "gemini"

    def command(self, prompt: str, extra: list[str]) -> list[str]:
        return [*extra, "-p", prompt]

    def environment(self, own_retries: bool) -> dict[str, str]:
        general: dict[str, object] = {"enableAutoUpdate": False, "enableAutoUpdateNotification": False}
        if not own_retries:
            general["maxAttempts"] = 2
        settings = {
            "general": general,
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "security": {"auth": {"selectedType": "gemini-api-key"}},
        }
        (self.home / ".gemini").mkdir(exist_ok=True)
        (self.home / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=1))
        return {
            "GOOGLE_GEMINI_BASE_URL": self.base_url,
            "GEMINI_API_KEY": self.key,
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
            "GEMINI_CLI_NO_RELAUNCH": "true",  # one process, not a relaunched child with a bigger heap
        }


KINDS: dict[str, type[RealClient]] = {"claude": ClaudeCode, "codex": Codex, "gemini": GeminiCli}


def find(name: str) -> Path:
    """The installed CLI, or a skip (a failure under REQUIRE_REAL_CLIENTS=1) that says how to install it."""
    binary = CLIENTS / "bin" / name
    if binary.exists():
        return binary
    reason = f"{name} is not installed in {CLIENTS} (scripts/install-clients installs it)"
    if os.environ.get("REQUIRE_REAL_CLIENTS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def real_client(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str, str, str], RealClient]:
    """`real_client("gemini", base_url, key)`: that CLI with a fresh home, its runs logged for this test."""
    artifacts = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    if artifacts.exists():
        for old in artifacts.iterdir():
            old.unlink()
    made: list[RealClient] = []

    def make(name: str, base_url: str, key: str) -> RealClient:
        client = KINDS[name](find(name), base_url, key, tmp_path / f"{name}-{len(made)}", artifacts)
        made.append(client)
        return client

    return make


# -- proxies for the CLIs -------------------------------------------------------------------------------

KEY = "sk-real-clients-0123456789"
ALICE = "alice@example.com"
# Names the CLIs ask for by default that the built-in routing does not know (yet): each to a model the fake
# serves, so a test of the protocol does not hang on routing. Gemini CLI's classifier, its routed Flash and
# Pro names. Codex's default model (gpt-6.2-sol) goes where a user's would: the built-in gpt-* fallback.
MAPPING = """
models:
  mapping:
    gemini-3.5-flash-lite: gemini-2.5-flash
    "gemini-3.*-pro*": gemini-3-pro-high
    "gemini-3.*-flash": gemini-3-flash
"""


@contextmanager
def client_proxy(home: Path, signed_in: bool) -> Iterator[SignedInProxy]:
    """A proxy for the CLIs: one fake account serving every upstream model, or (signed_in False) none."""
    google = FakeGoogle().start()
    try:
        models = {name: {"displayName": name, "remainingFraction": 1.0} for name in KNOWN_UPSTREAM_MODELS}
        google.add_account(ALICE, project="proj-alice", models=models)
        with signed_in_proxy(home, google, KEY, [ALICE] if signed_in else [], extra=MAPPING) as proxy:
            yield proxy
    finally:
        google.stop()


@pytest.fixture(scope="module")
def _shared_signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedInProxy]:
    with client_proxy(tmp_path_factory.mktemp("clients-proxy"), signed_in=True) as proxy:
        yield proxy


@pytest.fixture
def signed_in(_shared_signed_in: SignedInProxy) -> Iterator[SignedInProxy]:
    """The module's proxy with one signed-in account; the fake's scripts are fresh for each test."""
    _shared_signed_in.google.clear_scripts()
    _shared_signed_in.google.forget_calls()
    yield _shared_signed_in
    _shared_signed_in.google.clear_scripts()


@pytest.fixture(scope="module")
def no_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedInProxy]:
    """A proxy whose pool is empty: every AI route answers 503 saying how to sign in."""
    with client_proxy(tmp_path_factory.mktemp("clients-empty"), signed_in=False) as proxy:
        yield proxy


def generations(proxy: SignedInProxy) -> list[tuple[str, dict[str, Any]]]:
    """(upstream model, GenerateContentRequest) of every generation the fake Google received, in order."""
    calls = [c for c in proxy.google.calls if c.method in ("streamGenerateContent", "generateContent")]
    return [(c.body["model"], c.body["request"]) for c in calls if isinstance(c.body, dict) and "request" in c.body]
