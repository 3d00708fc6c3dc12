"""The SSE decoder: every way TCP can cut a stream decodes to the same events."""

from __future__ import annotations

import itertools

import pytest

from trayagent.upstream.sse import SseDecoder, SseEvent, unwrap_response

STREAM = (
    b": keep-alive\r\n\r\n"
    b'data: {"response": {"candidates": [{"content": {"parts": [{"text": "h\xc3\xa9llo"}]}}]}}\r\n\r\n'
    b"event: custom\nid: 7\nretry: 1000\nunknown: x\ndata: line one\ndata:line two\n\n"
    b"data: \xe2\x9c\x93 caf\xc3\xa9\r\rdata: last"
)
EXPECTED = [
    SseEvent('{"response": {"candidates": [{"content": {"parts": [{"text": "héllo"}]}}]}}'),
    SseEvent("line one\nline two", event="custom", id="7"),
    SseEvent("✓ café", id="7"),
    SseEvent("last", id="7"),
]


def decode(pieces: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.finish()


def test_one_piece():
    assert decode([STREAM]) == EXPECTED


def test_every_two_way_split():
    for cut in range(len(STREAM) + 1):
        assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_byte_by_byte_and_three_way_splits():
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED
    for a, b in itertools.combinations(range(0, len(STREAM), 7), 2):
        assert decode([STREAM[:a], STREAM[a:b], STREAM[b:]]) == EXPECTED, (a, b)


@pytest.mark.parametrize("ending", [b"\n\n", b"\r\n\r\n", b"\r\r", b"\n\r\n"])
def test_line_endings(ending: bytes):
    assert decode([b"data: a" + ending + b"data: b" + ending]) == [SseEvent("a"), SseEvent("b")]


def test_a_crlf_split_between_pieces_is_one_line_end():
    assert decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SseEvent("a\nb")]


def test_blank_lines_and_comments_alone_make_no_event():
    assert decode([b"\n\n: ping\n\n\r\n", b"event: x\n\n"]) == []


def test_unwrap_response():
    assert unwrap_response('{"response": {"candidates": []}, "traceId": "t"}') == {"candidates": []}
    assert unwrap_response(b'{"candidates": []}') == {"candidates": []}
    assert unwrap_response("[DONE]") is None
    assert unwrap_response("[1, 2]") is None
