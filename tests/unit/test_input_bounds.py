"""The pure parts of the HTTP edge: the strict Host parser, key headers that are not UTF-8, the JSON nesting bound
(checked by orjson, held against a plain count), and the words for a request head the HTTP layer refused."""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trayagent.errors import AuthError, BadRequest, Forbidden
from trayagent.proxy.auth import check_host, check_key, key_matches
from trayagent.proxy.body import parse_json_object
from trayagent.proxy.hostname import Host, is_loopback_name, parse_host
from trayagent.proxy.httpedge import describe_head
from trayagent.translate.nesting import MAX_NESTING, depth, may_nest_too_deep, too_deep

# -- Host ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1", Host("127.0.0.1", None)),
        ("127.0.0.1:8045", Host("127.0.0.1", 8045)),
        ("LocalHost:1", Host("localhost", 1)),
        ("[::1]", Host("::1", None, ipv6=True)),
        ("[::1]:8045", Host("::1", 8045, ipv6=True)),
        ("[fe80::1%25eth0]:80", Host("fe80::1%25eth0", 80, ipv6=True)),
        ("example.com:65535", Host("example.com", 65535)),
    ],
)
def test_a_name_and_an_optional_numeric_port_parse(value: str, parsed: Host) -> None:
    assert parse_host(value) == parsed


@pytest.mark.parametrize(
    "value",
    [
        "",
        "[::1].evil.example",
        "127.0.0.1:8045.evil.example",
        "127.0.0.1:8045@evil.example",
        "user@127.0.0.1",
        "localhost:evil.example",
        "localhost:",
        "localhost:65536",
        "localhost:123456",
        "::1",
        "[::1",
        "[not-ip]:80",
        "127.0.0.1/evil",
        "local host",
        "lócalhost",
        "\udcff",
        "a" * 300,
    ],
)
def test_anything_else_is_malformed(value: str) -> None:
    assert parse_host(value) is None
    with pytest.raises(BadRequest, match="Host header"):
        check_host([value], lan_access=True)  # malformed whatever the mode


@pytest.mark.parametrize("hosts", [[], ["127.0.0.1", "127.0.0.1"], ["127.0.0.1", "evil.example"]])
def test_exactly_one_host_header(hosts: list[str]) -> None:
    with pytest.raises(BadRequest, match=f"{len(hosts)} Host headers"):
        check_host(hosts, lan_access=False)


@pytest.mark.parametrize(
    ("value", "loopback"),
    [
        ("localhost", True),
        ("localhost.", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.200.0.1", True),
        ("[::1]", True),
        ("[::ffff:127.0.0.1]", True),
        ("localhost.evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("2130706433", False),  # 127.0.0.1 as one number: not a name this check takes
        ("[::2]", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_names(value: str, loopback: bool) -> None:
    host = parse_host(value)
    assert host is not None
    assert is_loopback_name(host) is loopback
    if loopback:
        check_host([value], lan_access=False)
    else:
        with pytest.raises(Forbidden):
            check_host([value], lan_access=False)


# -- a key that is not UTF-8 --------------------------------------------------------------------------------

NOT_UTF8 = b"\xff\xfe".decode("utf-8", "surrogateescape")  # how Sanic hands over such header bytes


def test_a_key_that_is_not_utf8_does_not_match_and_does_not_raise() -> None:
    assert not key_matches([NOT_UTF8, "\ud800"], "sk-right")
    assert key_matches([NOT_UTF8, "sk-right"], "sk-right")
    assert key_matches(["sk-ünïcode"], "sk-ünïcode")


def test_a_key_that_is_not_utf8_is_told_and_logged_once_per_peer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="trayagent.proxy.auth")
    for _ in range(3):
        with pytest.raises(AuthError, match="not UTF-8"):
            check_key([NOT_UTF8], "sk-right", "192.0.2.77")
    with pytest.raises(AuthError, match="not valid"):
        check_key(["sk-wrong"], "sk-right", "192.0.2.78")
    told = [r for r in caplog.records if "not UTF-8" in r.getMessage()]
    assert len(told) == 1 and "192.0.2.77" in told[0].getMessage()


# -- JSON nesting -------------------------------------------------------------------------------------------


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("levels", [0, 1, 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, 254, 500, 1024])
def test_too_deep_is_exactly_past_the_bound(levels: int) -> None:
    value = nested(levels)
    assert depth(value) == levels
    assert too_deep(value) is (levels > MAX_NESTING)


json_trees = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(json_trees, st.integers(min_value=MAX_NESTING - 12, max_value=MAX_NESTING + 4))
def test_too_deep_agrees_with_counting(tree: Any, extra: int) -> None:
    """Any tree hung below a chain of `extra` levels: orjson's verdict is the count's, and the byte pre-check
    never waves a deep document through."""
    value = nested(extra, tree)
    assert too_deep(value) is (depth(value) > MAX_NESTING)
    if depth(value) > MAX_NESTING:
        assert may_nest_too_deep(json.dumps(value).encode())


def body(levels: int) -> bytes:
    return orjson.dumps({"x": nested(levels - 1)})


def test_the_body_is_held_to_the_bound() -> None:
    assert parse_json_object(body(MAX_NESTING))["x"]
    for levels in (MAX_NESTING + 1, 300, 1024, 1100):
        with pytest.raises(BadRequest, match=f"more than {MAX_NESTING} levels deep"):
            parse_json_object(b'{"x":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}")


def test_a_large_body_is_checked_too() -> None:
    """Past the size where the brackets are counted, the orjson check still runs."""
    padding = "p" * 10_000
    with pytest.raises(BadRequest, match="levels deep"):
        parse_json_object(orjson.dumps({"pad": padding, "x": nested(MAX_NESTING)}))
    assert parse_json_object(orjson.dumps({"pad": padding, "x": nested(MAX_NESTING - 1)}))


# -- a head the HTTP layer refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "Content-Length 'abc' is not a number"),
        (b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", "2 Content-Length headers"),
        (b"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", "both Content-Length"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding 'gzip' is not supported"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "2 Transfer-Enc"),
        (b"POST / HTTP/1.1\r\nno colon here\r\n\r\n", "line 2 of the request head"),
        (b"POST / HTTP/2.0\r\n\r\n", "request line"),
        (b"POST /\r\n\r\n", "request line"),
        (b"POST / HTTP/1.1\r\nContent-Length: \xff\r\n\r\n", "Content-Length '\\xff'"),
        (b"", "request line"),
    ],
)
def test_a_refused_head_is_described_in_words(head: bytes, words: str) -> None:
    assert words in describe_head(head)
