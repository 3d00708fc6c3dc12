"""`proxy.cors_origins` and the origin rules under it: entries read the way browsers write `Origin`, bad ones
refused with the key, the line and what is wrong; which origins and Host names count as this machine."""

from __future__ import annotations

import pytest

from trayagent.config import Config, parse_config_text
from trayagent.configchange import diff_config
from trayagent.errors import ConfigError
from trayagent.origins import is_loopback_host, is_loopback_origin, normalise_origin


def origins(yaml_list: str) -> tuple[str, ...]:
    return parse_config_text(f"proxy:\n  cors_origins: {yaml_list}\n").proxy.cors_origins


def test_no_origin_is_trusted_by_default() -> None:
    assert Config().proxy.cors_origins == () == origins("null") == origins("[]")


def test_entries_are_kept_as_browsers_send_them() -> None:
    listed = origins(
        '["HTTPS://Chat.Example.com:443/", "http://localhost:3000", "http://10.0.0.5:80", "app://desk", '
        '"http://[::1]:8080", "https://chat.example.com"]'
    )
    assert listed == ("https://chat.example.com", "http://localhost:3000", "http://10.0.0.5", "app://desk",
                      "http://[::1]:8080")  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('"null"', '"null" is the origin of sandboxed frames and local files: any page can have it'),
        ('"*"', "* would let every web page use the proxy without its key; list the origins you trust"),
        ('"chat.example.com"', "expected an origin like http://localhost:3000 or https://chat.example.com"),
        ('"https://chat.example.com/app"', "expected only scheme://host[:port], with no path, query, user name"),
        ('"https://*.example.com"', "with no path, query, user name or wildcard"),
        ('"https://me@chat.example.com"', "with no path, query, user name or wildcard"),
        ('"http://localhost:99999"', "the port must be a number 1-65535"),
        ('"http://localhost:x"', "the port must be a number 1-65535"),
        ('"http://[::1"', "an IPv6 address needs its closing ]"),
        ('"http://[nope]:80"', "[nope] is not an IPv6 address"),
        ('"http://bad_name.example"', "'bad_name.example' is not a host name"),
        ("3", "expected an origin like https://chat.example.com"),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_the_item(entry: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(f"proxy:\n  port: 8045\n  cors_origins:\n    - http://localhost:3000\n    - {entry}\n")
    message = str(caught.value)
    assert message.startswith("proxy.cors_origins (line 4): item 1: "), message
    assert problem in message and message.endswith(f"got {entry}" if entry != "3" else "got 3"), message


def test_a_single_origin_must_still_be_a_list() -> None:
    with pytest.raises(ConfigError, match=r"proxy.cors_origins \(line 2\): expected a list of origins"):
        parse_config_text("proxy:\n  cors_origins: https://chat.example.com\n")


def test_a_changed_list_is_reported_without_its_entries() -> None:
    old = parse_config_text("proxy:\n  cors_origins: []\n")
    new = parse_config_text("proxy:\n  cors_origins: [https://chat.example.com]\n")
    assert diff_config(old, new).describe() == "proxy.cors_origins changed"


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:5173", "http://localhost:3000", "http://[::1]:8080", "http://localhost", "https://127.0.0.1"],
)
def test_pages_on_this_machine_are_loopback_origins(origin: str) -> None:
    assert is_loopback_origin(origin) and normalise_origin(origin) == origin


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://evil.example",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example:80",
        "http://127.0.0.2:80",  # loopback, but not a name the brief trusts by default
        "file://",
        "chrome-extension://abcdef",
        "http://localhost:",
        "http://localhost:80x",
        "http://[::1]x",
        "ftp://localhost",
    ],
)
def test_other_origins_are_not(origin: str) -> None:
    assert not is_loopback_origin(origin)


@pytest.mark.parametrize("host", ["127.0.0.1:8045", "localhost", "LOCALHOST:1", "app.localhost:9", "[::1]:8045",
                                  "127.9.9.9"])  # fmt: skip
def test_loopback_host_headers(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [None, "", "evil.example:8045", "[::1].evil.example", "127.0.0.1:8045.evil.example", "127.0.0.1:8045@evil",
     "localhost:evil.example", "[::1]x", "10.0.0.1:8045", "bad_name.localhost"],
)  # fmt: skip
def test_other_host_headers(host: str | None) -> None:
    assert not is_loopback_host(host)
