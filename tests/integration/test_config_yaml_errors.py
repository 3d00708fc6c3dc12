"""A broken or hostile config.yaml as the user meets it: `config check` names the line, a hot reload keeps serving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.configtexts import alias_bomb
from tests.polling import eventually
from tests.serverproc import ServeProcess, free_port, http, isolated_env, run_cli

pytestmark = pytest.mark.timeout(60)

# (file text, the line of the mistake). The line after each mistake is a valid one, so "line N+1" is wrong.
TYPICAL_MISTAKES = {
    "bad indent": ("proxy:\n  port: 8045\n  cors: true\n allow_lan_access: true\nmonitor:\n  enabled: true\n", 4),
    "missing colon": ("# my config\nproxy:\n  port: 8045\n  cors true\n\n# monitor\nmonitor:\n  enabled: true\n", 4),
    "unclosed quote": ('proxy:\n  port: 8045\n  api_key: "sk-abcdefghijkl\n  cors: true\nlog_level: info\n', 3),
    "tab": ("proxy:\n  port: 8045\n\tcors: true\nmonitor:\n  enabled: true\n", 3),
}


@pytest.mark.parametrize("mistake", list(TYPICAL_MISTAKES))
def test_config_check_names_the_line_of_a_syntax_mistake(home: Path, env: dict[str, str], mistake: str) -> None:
    text, line = TYPICAL_MISTAKES[mistake]
    path = home / "config.yaml"
    path.write_text(text)
    result = run_cli(env, "config", "check", str(path))
    assert result.returncode == 2, result
    assert f"{path}: not valid YAML (line {line}, column " in result.stderr, result.stderr
    assert f"line {line + 1}" not in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_refuses_an_alias_bomb_at_once(home: Path, env: dict[str, str]) -> None:
    path = home / "config.yaml"
    path.write_text(alias_bomb())
    result = run_cli(env, "config", "check", str(path), timeout=10)
    assert result.returncode == 2
    assert f"{path}: YAML alias *a (line 4, column 12): aliases are not accepted" in result.stderr


def save_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_a_hot_reload_with_an_alias_bomb_keeps_the_running_config(home: Path) -> None:
    port = free_port()
    old = f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: sk-keeps-its-key\n"
    server = ServeProcess(home, old, env={**isolated_env(home), "TRAYAGENT_TEST_ROUTES": "1"}).start()
    key = {"x-api-key": "sk-keeps-its-key"}
    try:
        save_atomically(home / "config.yaml", f"proxy:\n  port: {port}\n  auth_mode: 'off'\n{alias_bomb()}")

        def config_error() -> str:
            reply = http(port, "GET", "/api/status", headers=key)
            assert reply.status == 200, reply.body
            return str(reply.json()["config_error"])

        assert eventually(lambda: "YAML alias *a (line 7, column 12)" in config_error(), 10), server.output()
        assert "invalid config, keeping the last good configuration" in server.output()
        assert http(port, "GET", "/healthz").status == 401  # still strict: the old config serves
        assert http(port, "GET", "/healthz", headers=key).status == 200
    finally:
        assert server.stop() == 0, server.output()
