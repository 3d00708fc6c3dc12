"""config.yaml → Config: defaults, validation messages with lines, unknown keys, the sample file."""

from __future__ import annotations

from pathlib import Path

import pytest

from trayagent.config import (
    DEFAULT_ENDPOINTS,
    Config,
    ConfigError,
    ensure_config_file,
    load_config,
    parse_config,
    parse_config_text,
    sample_config_text,
)

REPO = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract() -> None:
    c = Config()
    assert (c.proxy.port, c.proxy.allow_lan_access, c.proxy.auth_mode, c.proxy.api_key) == (
        8045,
        False,
        "auto",
        None,
    )
    assert (c.proxy.request_timeout, c.proxy.max_body_mb, c.proxy.cors) == (600, 100, True)
    assert dict(c.models.mapping) == {}
    assert c.upstream.endpoints == DEFAULT_ENDPOINTS
    assert c.upstream.endpoints[0] == "https://daily-cloudcode-pa.sandbox.googleapis.com/v1internal"
    assert (c.upstream.user_agent, c.upstream.http_proxy) == (None, None)
    assert c.oauth.client_id.endswith(".apps.googleusercontent.com")
    assert c.oauth.auth_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert c.oauth.token_url == "https://oauth2.googleapis.com/token"
    assert c.oauth.userinfo_url == "https://www.googleapis.com/oauth2/v2/userinfo"
    s = c.scheduling
    assert (s.mode, s.fixed_account, s.max_attempts, s.cooldown_cap_s) == ("balance", None, 3, 300)
    assert (c.monitor.enabled, c.monitor.retention_days, c.monitor.log_bodies) == (True, 30, False)
    assert c.log_level == "info"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "proxy:\nmodels:\n", "proxy: {}\n"])
def test_empty_file_and_empty_sections_give_defaults(text: str) -> None:
    assert parse_config_text(text) == Config()


def test_sample_file_is_exactly_the_defaults_and_ships_with_the_package() -> None:
    assert sample_config_text() == (REPO / "sample-config.yaml").read_text()
    parsed = parse_config_text(sample_config_text())
    assert parsed == Config()
    assert parsed.warnings == ()


def test_values_are_read() -> None:
    c = parse_config_text(
        "proxy:\n  port: 9000\n  allow_lan_access: true\n  auth_mode: STRICT\n  api_key: sk-abcdefgh12\n"
        "  max_body_mb: 0.5\nmodels:\n  mapping:\n    'gpt-4*': gemini-2.5-pro\n"
        "upstream:\n  endpoints: [http://127.0.0.1:9/v1internal/]\n  http_proxy: socks5://127.0.0.1:1080\n"
        "scheduling:\n  mode: fixed\n  fixed_account: a@example.com\nlog_level: DEBUG\n"
    )
    assert c.proxy.port == 9000 and c.proxy.allow_lan_access and c.proxy.auth_mode == "strict"
    assert c.proxy.api_key == "sk-abcdefgh12"
    assert c.proxy.max_body_bytes == 512 * 1024
    assert dict(c.models.mapping) == {"gpt-4*": "gemini-2.5-pro"}
    assert c.upstream.endpoints == ("http://127.0.0.1:9/v1internal",)
    assert c.scheduling.fixed_account == "a@example.com"
    assert c.log_level == "debug"
    with pytest.raises(TypeError):
        c.models.mapping["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize("text", ["auth_mode: off", "auth_mode: 'off'", "auth_mode: Off", "auth_mode: no"])
def test_a_bare_off_means_off_although_yaml_reads_it_as_false(text: str) -> None:
    assert parse_config_text(f"proxy:\n  {text}\n").proxy.auth_mode == "off"


def test_a_bare_on_is_not_a_mode() -> None:
    with pytest.raises(ConfigError, match="got true"):
        parse_config_text("proxy:\n  auth_mode: on\n")


@pytest.mark.parametrize(
    ("lan", "mode", "effective", "host"),
    [
        (False, "auto", "off", "127.0.0.1"),
        (True, "auto", "all_except_health", "0.0.0.0"),
        (False, "strict", "strict", "127.0.0.1"),
        (True, "off", "off", "0.0.0.0"),
        (False, "all_except_health", "all_except_health", "127.0.0.1"),
    ],
)
def test_effective_auth_mode_and_bind_host(lan: bool, mode: str, effective: str, host: str) -> None:
    c = parse_config({"proxy": {"allow_lan_access": lan, "auth_mode": mode}})
    assert c.proxy.effective_auth_mode == effective
    assert c.proxy.bind_host == host


INVALID = [
    ('proxy:\n\n  port: "80a"\n', 'proxy.port (line 3): expected an integer 1-65535, got "80a"'),
    ("proxy:\n  port: 0\n", "proxy.port (line 2): expected an integer 1-65535, got 0"),
    ("proxy:\n  port: 70000\n", "proxy.port (line 2): expected an integer 1-65535, got 70000"),
    ("proxy:\n  port: true\n", "proxy.port (line 2): expected an integer 1-65535, got true"),
    (
        "proxy:\n  allow_lan_access: maybe\n",
        'proxy.allow_lan_access (line 2): expected true or false, got "maybe"',
    ),
    (
        "proxy:\n  auth_mode: everything\n",
        'proxy.auth_mode (line 2): expected one of off, strict, all_except_health, auto, got "everything"',
    ),
    (
        "proxy:\n  api_key: abcdefghijkl\n",
        'proxy.api_key (line 2): expected a key starting with "sk-", at least 10 characters, '
        'or null to generate one, got "abcdefghijkl"',
    ),
    (
        "proxy:\n  api_key: sk-short\n",
        'proxy.api_key (line 2): expected a key starting with "sk-", at least 10 characters, '
        'or null to generate one, got "sk-short"',
    ),
    (
        "proxy:\n  api_key: 'sk-abc def ghi'\n",
        'proxy.api_key (line 2): expected a key without spaces, got "sk-abc def ghi"',
    ),
    (
        "proxy:\n  request_timeout: -1\n",
        "proxy.request_timeout (line 2): expected a number greater than 0 and at most 86400, got -1",
    ),
    (
        "proxy:\n  max_body_mb: 0\n",
        "proxy.max_body_mb (line 2): expected a number greater than 0 and at most 4096, got 0",
    ),
    ("proxy:\n  cors: 1\n", "proxy.cors (line 2): expected true or false, got 1"),
    (
        "models:\n  mapping: [a, b]\n",
        "models.mapping (line 2): expected a mapping of requested model name → upstream model name, got a list",
    ),
    (
        "models:\n  mapping:\n    gpt-4: 5\n",
        'models.mapping (line 3): expected model names as strings, got "gpt-4": 5',
    ),
    (
        "upstream:\n  endpoints: []\n",
        "upstream.endpoints (line 2): expected a non-empty list of URLs, got a list",
    ),
    (
        "upstream:\n  endpoints:\n    - ftp://x\n",
        'upstream.endpoints (line 3): item 0: expected a URL starting with https:// or http://, got "ftp://x"',
    ),
    ("upstream:\n  user_agent: ''\n", 'upstream.user_agent (line 2): expected a non-empty string, got ""'),
    (
        "upstream:\n  http_proxy: ftp://proxy:21\n",
        "upstream.http_proxy (line 2): expected a URL starting with http:// or https:// or socks5:// or socks5h://, "
        'got "ftp://proxy:21"',
    ),
    (
        "oauth:\n  token_url: not a url\n",
        'oauth.token_url (line 2): expected a URL starting with https:// or http://, got "not a url"',
    ),
    ("oauth:\n  client_id: 42\n", "oauth.client_id (line 2): expected a non-empty string, got 42"),
    (
        "scheduling:\n  mode: random\n",
        'scheduling.mode (line 2): expected one of balance, performance, fixed, got "random"',
    ),
    (
        "scheduling:\n  mode: fixed\n",
        "scheduling.mode (line 2): mode fixed needs scheduling.fixed_account (an email)",
    ),
    ("scheduling:\n  max_attempts: 0\n", "scheduling.max_attempts (line 2): expected an integer 1-50, got 0"),
    (
        "scheduling:\n  cooldown_cap_s: -5\n",
        "scheduling.cooldown_cap_s (line 2): expected a number greater than 0 and at most 604800, got -5",
    ),
    ("monitor:\n  retention_days: 0\n", "monitor.retention_days (line 2): expected an integer 1-3650, got 0"),
    ("monitor:\n  log_bodies: 'no'\n", 'monitor.log_bodies (line 2): expected true or false, got "no"'),
    (
        "log_level: verbose\n",
        'log_level (line 1): expected one of debug, info, warning, error, got "verbose"',
    ),
    ("proxy: 8045\n", "proxy (line 1): expected a mapping of settings, got 8045"),
    ("- a\n- b\n", "(top level) (line 1): expected a mapping of settings, got a list"),
    ("proxy:\n  port: 1\n  port: 2\n", "proxy.port (line 3): duplicate key, first set on line 2"),
    (
        "proxy:\n  port: [1\n",
        "not valid YAML (line 2, column 9): the [ here is not closed (expected ',' or ']', but got '<stream end>')",
    ),
    ("proxy:\n  port: 1\n bad: 2\n", "not valid YAML (line 3, column 2)"),
]


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[m.split(" (")[0] for _, m in INVALID])
def test_every_invalid_value_is_named_with_its_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, Path("/cfg/config.yaml"))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(message)
    assert str(info.value).startswith("/cfg/config.yaml: ")


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("proxy:\n  port: x\n  cors: 3\nlog_level: loud\n")
    assert [p.split(":")[0] for p in info.value.problems] == [
        "proxy.port (line 2)",
        "proxy.cors (line 3)",
        "log_level (line 4)",
    ]
    assert "3 problems" in str(info.value)


def test_unknown_keys_are_reported_with_line_and_suggestion_not_ignored_silently() -> None:
    c = parse_config_text("proxy:\n  prot: 9000\n  cors: false\nmonitr:\n  enabled: false\nextra: 1\n")
    assert c.warnings == (
        "proxy.prot (line 2): unknown key, ignored (did you mean 'port'?)",
        "monitr (line 4): unknown key, ignored (did you mean 'monitor'?)",
        "extra (line 6): unknown key, ignored",
    )
    assert c.proxy.port == 8045 and c.proxy.cors is False


def test_parse_config_is_pure_and_works_on_plain_mappings() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"proxy": {"port": "80a"}})
    assert info.value.problems == ('proxy.port: expected an integer 1-65535, got "80a"',)
    assert parse_config({"proxy": {"port": 1234}}).proxy.port == 1234


def test_load_config_reads_files_and_reports_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError, match="file not found"):
        load_config(path)
    path.write_text("proxy:\n  port: 9123\n")
    c = load_config(path)
    assert c.proxy.port == 9123 and c.source == path
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(path)


def test_first_run_writes_the_commented_sample_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "config.yaml"
    assert ensure_config_file(path) is True
    assert path.read_text() == sample_config_text()
    assert "#" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("proxy:\n  port: 9999\n")
    assert ensure_config_file(path) is False
    assert load_config(path).proxy.port == 9999
