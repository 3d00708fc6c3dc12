"""Access control, pure: who needs the key, where a key may be sent, the Host check."""

from __future__ import annotations

import pytest

from trayagent.errors import AuthError, Forbidden
from trayagent.proxy.auth import check_host, check_key, is_loopback, key_matches, key_required, presented_keys
from trayagent.proxy.surface import classify_path, protocol_for_path


@pytest.mark.parametrize(
    ("path", "cls", "protocol"),
    [
        ("/healthz", "health", "openai"),
        ("/health", "health", "openai"),
        ("/healthzz", "ai", "openai"),
        ("/api/status", "admin", "openai"),
        ("/api", "admin", "openai"),
        ("/ui/", "admin", "openai"),
        ("/metrics", "admin", "openai"),
        ("/metrics/", "admin", "openai"),
        ("/api/", "admin", "openai"),
        ("//api//status", "admin", "openai"),
        ("/healthz/", "health", "openai"),
        ("/apiary", "ai", "openai"),
        ("/v1/chat/completions", "ai", "openai"),
        ("/v1/messages", "ai", "anthropic"),
        ("/v1/messages/count_tokens", "ai", "anthropic"),
        ("/v1/messagesx", "ai", "openai"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", "ai", "gemini"),
        ("/nowhere", "ai", "openai"),
        ("/v1/models/gemini-2.5-flash:generateContent", "ai", "gemini"),
        ("/v1/models/gpt-4o", "ai", "openai"),
        ("/v1/models", "ai", "openai"),
    ],
)
def test_paths_are_classified(path: str, cls: str, protocol: str) -> None:
    assert classify_path(path) == cls
    assert protocol_for_path(path) == protocol


# (mode, path class, peer on loopback) → key required; written out, not derived.
TABLE = [
    ("off", "health", True, False),
    ("off", "ai", True, False),
    ("off", "admin", True, False),
    ("off", "health", False, False),
    ("off", "ai", False, False),
    ("off", "admin", False, True),  # the status API is never open to the network
    ("all_except_health", "health", True, False),
    ("all_except_health", "ai", True, True),
    ("all_except_health", "admin", True, True),
    ("all_except_health", "health", False, False),
    ("all_except_health", "ai", False, True),
    ("all_except_health", "admin", False, True),
    ("strict", "health", True, True),
    ("strict", "ai", True, True),
    ("strict", "admin", True, True),
    ("strict", "health", False, True),
    ("strict", "ai", False, True),
    ("strict", "admin", False, True),
]


@pytest.mark.parametrize(("mode", "cls", "loopback", "required"), TABLE)
def test_key_required_table(mode: str, cls: str, loopback: bool, required: bool) -> None:
    assert key_required(cls, mode, loopback) is required  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("auth", "x_api", "x_goog", "query", "expected"),
    [
        ("Bearer sk-one", None, None, None, ["sk-one"]),
        ("bearer   sk-one ", None, None, None, ["sk-one"]),
        ("sk-raw", None, None, None, ["sk-raw"]),
        (None, "sk-x", None, None, ["sk-x"]),
        (None, None, "sk-g", None, ["sk-g"]),
        (None, None, None, "sk-q", ["sk-q"]),
        ("Bearer a", "b", "c", "d", ["a", "b", "c", "d"]),
        (None, None, None, None, []),
        ("", "", None, "", []),
    ],
)
def test_every_header_form_is_a_candidate(
    auth: str | None, x_api: str | None, x_goog: str | None, query: str | None, expected: list[str]
) -> None:
    assert presented_keys(auth, x_api, x_goog, query) == expected


def test_key_matching() -> None:
    assert key_matches(["nope", "sk-right"], "sk-right")
    assert not key_matches(["sk-righ", "sk-right "], "sk-right")
    assert not key_matches([], "sk-right")
    assert key_matches(["sk-ünïcode"], "sk-ünïcode")


def test_check_key_says_missing_or_wrong() -> None:
    with pytest.raises(AuthError, match="needs its API key"):
        check_key([], "sk-right")
    with pytest.raises(AuthError, match="not valid"):
        check_key(["sk-wrong"], "sk-right")
    check_key(["sk-right"], "sk-right")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8045", "localhost", "LOCALHOST:8045", "app.localhost:1", "[::1]:8045", "127.9.9.9:80"],
)
def test_loopback_hosts_pass(host: str) -> None:
    check_host([host], lan_access=False)


@pytest.mark.parametrize("host", ["evil.com", "evil.com:8045", "192.168.1.5:8045", "localhost.evil.com", "[::2]:1"])
def test_foreign_hosts_are_refused_unless_lan_access(host: str) -> None:
    with pytest.raises(Forbidden, match="not a loopback name"):
        check_host([host], lan_access=False)
    check_host([host], lan_access=True)


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.1.2.3")
    assert not is_loopback("10.0.0.1") and not is_loopback(None) and not is_loopback("garbage")
