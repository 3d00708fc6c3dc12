"""The command line as a user runs it: first run, config path/check, key show/copy/rotate, status."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktopentry import needs_validator, validate
from tests.polling import eventually
from tests.serverproc import REPO, ServeProcess, free_port, isolated_env, run_cli

FAKE_OS_KEYRING = "tests.fakes.keyrings.SharedFileKeyring"


def test_first_run_writes_a_commented_config_and_says_so(home: Path, env: dict[str, str]) -> None:
    result = run_cli(env, "key", "show")
    assert result.returncode == 0
    config = home / "config.yaml"
    assert f"first run: wrote a commented config to {config}" in result.stderr
    assert config.read_text() == (REPO / "sample-config.yaml").read_text()
    again = run_cli(env, "key", "show")
    assert "first run" not in again.stderr
    assert again.stdout == result.stdout


def test_config_path_honours_trayagent_home_and_the_option(home: Path, env: dict[str, str]) -> None:
    assert run_cli(env, "config", "path").stdout.strip() == str(home / "config.yaml")
    assert run_cli(env, "--config", str(home / "x.yaml"), "config", "path").stdout.strip() == str(home / "x.yaml")
    assert run_cli(env, "config", "path", "--config", str(home / "y.yaml")).stdout.strip() == str(home / "y.yaml")
    without_home = {k: v for k, v in env.items() if k != "TRAYAGENT_HOME"}
    expected = Path(env["XDG_CONFIG_HOME"]) / "trayagent" / "config.yaml"
    assert run_cli(without_home, "config", "path").stdout.strip() == str(expected)
    assert not (home / "config.yaml").exists()  # `config path` only tells


def test_config_check(home: Path, env: dict[str, str]) -> None:
    before_first_run = run_cli(env, "config", "check")
    assert before_first_run.returncode == 0 and "the defaults apply" in before_first_run.stdout
    assert not (home / "config.yaml").exists()

    good = home / "good.yaml"
    good.write_text("proxy:\n  port: 9000\n")
    result = run_cli(env, "config", "check", str(good))
    assert (result.returncode, result.stdout.strip()) == (0, f"{good}: ok")

    typo = home / "typo.yaml"
    typo.write_text("proxy:\n  prot: 9000\n")
    result = run_cli(env, "config", "check", str(typo))
    assert result.returncode == 0
    assert "warning: proxy.prot (line 2): unknown key, ignored (did you mean 'port'?)" in result.stderr

    bad = home / "bad.yaml"
    bad.write_text('proxy:\n\n  port: "80a"\n')
    result = run_cli(env, "config", "check", str(bad))
    assert result.returncode == 2
    assert f'{bad}: proxy.port (line 3): expected an integer 1-65535, got "80a"' in result.stderr

    result = run_cli(env, "config", "check", str(home / "missing.yaml"))
    assert result.returncode == 2 and "file not found" in result.stderr

    (home / "config.yaml").write_text("log_level: loud\n")
    result = run_cli(env, "config", "check")
    assert result.returncode == 2 and "log_level (line 1)" in result.stderr


def test_bad_usage_exits_2(env: dict[str, str]) -> None:
    assert run_cli(env, "key").returncode == 2
    assert run_cli(env, "frobnicate").returncode == 2


def test_the_key_lives_in_the_os_keyring_when_there_is_one(home: Path) -> None:
    env = isolated_env(home, keyring_backend=FAKE_OS_KEYRING)
    result = run_cli(env, "key", "show")
    key = result.stdout.strip()
    assert result.returncode == 0 and key.startswith("sk-") and len(key) == 35
    assert json.loads((home / "fake-os-keyring.json").read_text()) == {"trayagent/api_key": key}
    assert not (home / "data" / "secrets.json").exists()
    assert "no usable OS keyring" not in result.stderr


@pytest.mark.timeout(60)
def test_without_a_keyring_the_key_goes_to_a_0600_file_said_once_for_this_machine(
    home: Path, env: dict[str, str]
) -> None:
    result = run_cli(env, "key", "show")
    secrets_file = home / "data" / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "data").stat().st_mode) == 0o700
    assert json.loads(secrets_file.read_text()) == {"api_key": result.stdout.strip()}
    notice = f"this machine has no OS keyring; secrets are kept in {secrets_file} with mode 0600 (only you can read it)"
    assert result.stderr.count(notice) == 1, result.stderr
    assert "WARNING" not in result.stderr and "is not usable" not in result.stderr  # words, not an internal error
    # Said: the next commands and the proxy (and its restarts) have nothing new to say about it.
    assert "OS keyring" not in run_cli(env, "key", "show").stderr
    (home / "config.yaml").write_text(f"proxy:\n  port: {free_port()}\n")
    server = ServeProcess(home, None, env=env).start()
    try:
        status = eventually(lambda: (s := run_cli(env, "status")).returncode == 0 and s, 10)
        assert status, run_cli(env, "status").stderr
        assert f"secrets    file {secrets_file} (mode 0600): this machine has no OS keyring" in status.stdout
        assert "OS keyring" not in status.stderr
    finally:
        assert server.stop() == 0
    assert "OS keyring" not in server.output()


def test_a_locked_keyring_falls_back_too(home: Path) -> None:
    env = isolated_env(home, keyring_backend="tests.fakes.keyrings.LockedKeyring")
    result = run_cli(env, "key", "show")
    assert result.returncode == 0
    assert "KeyringLocked" in result.stderr
    assert json.loads((home / "data" / "secrets.json").read_text())["api_key"] == result.stdout.strip()


def test_key_copy_prints_the_key_when_there_is_no_clipboard(env: dict[str, str]) -> None:
    key = run_cli(env, "key", "show").stdout.strip()
    result = run_cli(env, "key", "copy")
    assert result.returncode == 0
    assert result.stdout.strip() == key
    assert "no clipboard available" in result.stderr


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xclip")), reason="needs Xvfb and xclip")
@pytest.mark.timeout(60)
def test_key_copy_puts_the_key_on_the_clipboard(env: dict[str, str]) -> None:
    key = run_cli(env, "key", "show").stdout.strip()
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "320x240x24", "-nolisten", "tcp"],
        pass_fds=[write_fd],
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        display = os.read(read_fd, 16).decode().strip()
        gui_env = {**env, "DISPLAY": f":{display}"}
        result = run_cli(gui_env, "key", "copy")
        assert result.returncode == 0 and "copied to the clipboard" in result.stderr
        assert result.stdout == ""
        pasted = subprocess.run(
            ["xclip", "-o", "-selection", "clipboard"],
            env=gui_env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert pasted.stdout == key
    finally:
        os.close(read_fd)
        xvfb.terminate()
        xvfb.wait(10)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", FAKE_OS_KEYRING], ids=["file", "keyring"])
def test_rotate_changes_what_the_running_server_accepts(home: Path, backend: str) -> None:
    env = isolated_env(home, keyring_backend=backend)
    server = ServeProcess(home, f"proxy:\n  port: {free_port()}\n  auth_mode: strict\n", env=env).start()
    try:
        old = run_cli(env, "key", "show").stdout.strip()
        assert server.request("GET", "/healthz", headers={"Authorization": f"Bearer {old}"}).status == 200

        result = run_cli(env, "key", "rotate")
        new = result.stdout.strip()
        assert result.returncode == 0 and new.startswith("sk-") and new != old
        assert "the running proxy now accepts only the new key" in result.stderr
        assert server.request("GET", "/healthz", headers={"Authorization": f"Bearer {old}"}).status == 401
        assert server.request("GET", "/healthz", headers={"x-api-key": new}).status == 200
        assert run_cli(env, "key", "show").stdout.strip() == new
        assert old not in server.output() and new not in server.output()
    finally:
        assert server.stop() == 0


def test_rotate_without_a_running_server(home: Path, env: dict[str, str]) -> None:
    (home / "config.yaml").write_text(f"proxy:\n  port: {free_port()}\n")
    old = run_cli(env, "key", "show").stdout.strip()
    result = run_cli(env, "key", "rotate")
    assert result.returncode == 0 and result.stdout.strip() != old
    assert "no proxy is running here" in result.stderr


def test_rotate_refuses_when_the_config_pins_the_key(home: Path, env: dict[str, str]) -> None:
    (home / "config.yaml").write_text("proxy:\n  api_key: sk-pinned-key-123\n")
    result = run_cli(env, "key", "rotate")
    assert result.returncode == 1
    assert f"proxy.api_key is set in {home / 'config.yaml'}" in result.stderr
    assert run_cli(env, "key", "show").stdout.strip() == "sk-pinned-key-123"


@pytest.mark.timeout(60)
def test_status_asks_the_running_proxy(home: Path, env: dict[str, str]) -> None:
    port = free_port()
    (home / "config.yaml").write_text(f"proxy:\n  port: {port}\n  auth_mode: all_except_health\n")
    result = run_cli(env, "status")
    assert result.returncode == 1
    assert f"no trayagent proxy is answering on http://127.0.0.1:{port}" in result.stderr
    assert not (home / "data" / "secrets.json").exists()  # asking creates no key
    server = ServeProcess(home, None, env=env).start()
    try:

        def answered() -> subprocess.CompletedProcess[str] | None:
            status = run_cli(env, "status")
            return status if status.returncode == 0 else None

        result = eventually(answered, 5)
        assert result is not None, run_cli(env, "status").stderr
        assert f"address    http://127.0.0.1:{port}" in result.stdout
        assert "auth       all_except_health" in result.stdout
        assert "accounts   0 available of 0" in result.stdout
    finally:
        assert server.stop() == 0


@needs_validator
def test_the_cli_writes_a_valid_entry_for_this_installation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_env(home)
    assert run_cli(env, "autostart", "status").stdout.startswith("start at login: disabled")
    result = run_cli(env, "autostart", "enable")
    desktop = Path(env["XDG_CONFIG_HOME"]) / "autostart" / "trayagent.desktop"
    assert result.returncode == 0 and result.stdout.strip() == f"start at login: enabled ({desktop})"
    validate(desktop)
    text = desktop.read_text()
    python = os.path.abspath(sys.executable)
    script = os.path.join(os.path.dirname(python), "trayagent")
    expected = script if os.path.exists(script) else f"{python} -m trayagent"
    assert f"Exec=env TRAYAGENT_HOME={home} {expected}" in text.splitlines()
    icon = Path(text.split("Icon=", 1)[1].splitlines()[0])
    assert icon.is_file() and icon.name == "trayagent.png"
    assert run_cli(env, "autostart", "disable").stdout.startswith("start at login: disabled")
    assert not desktop.exists()
