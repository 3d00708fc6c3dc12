"""The incremental SSE decoder: field rules, line endings, and any chunking giving the one-shot result."""

from __future__ import annotations

import random

import orjson
import pytest

from trayagent.upstream.sse import SSEDecoder, SSEEvent, decode_all, event_json, unwrap_response


def chunks_of(payload: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(payload)]
    return [payload[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def decode_chunked(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.finish()


FIELD_CASES = [
    (b"data: a\n\n", [SSEEvent("a")]),
    (b"data: a\ndata: b\n\n", [SSEEvent("a\nb")]),
    (b"data:a\n\n", [SSEEvent("a")]),
    (b"data:  two spaces\n\n", [SSEEvent(" two spaces")]),  # only one leading space is dropped
    (b"data\n\n", [SSEEvent("")]),  # a field with no colon has an empty value
    (b"data:\n\n", [SSEEvent("")]),
    (b"data: a\ndata:\ndata: b\n\n", [SSEEvent("a\n\nb")]),
    (b"data: a:b:c\n\n", [SSEEvent("a:b:c")]),
    (b": keep-alive\n\n", []),
    (b":\n\n", []),
    (b": ping\ndata: x\n: another\n\n", [SSEEvent("x")]),
    (b"event: ping\ndata: x\n\ndata: y\n\n", [SSEEvent("x", "ping"), SSEEvent("y")]),  # the type resets
    (b"event: lonely\n\ndata: y\n\n", [SSEEvent("y")]),  # no data: nothing dispatched, type reset
    (b"id: 7\ndata: a\n\ndata: b\n\n", [SSEEvent("a", id="7"), SSEEvent("b", id="7")]),  # the last id persists
    (b"id: 7\ndata: a\n\nid\ndata: b\n\n", [SSEEvent("a", id="7"), SSEEvent("b", id="")]),
    (b"id: 7\ndata: a\n\nid: 8\x00\ndata: b\n\n", [SSEEvent("a", id="7"), SSEEvent("b", id="7")]),  # NUL: ignored
    (b"foo: bar\ndata: x\nDATA: y\n\n", [SSEEvent("x")]),  # unknown and wrongly-cased fields ignored
    (b"data: a\r\ndata: b\r\n\r\n", [SSEEvent("a\nb")]),
    (b"data: a\rdata: b\r\r", [SSEEvent("a\nb")]),
    (b"data: a\r\r\ndata: b\n\r", [SSEEvent("a"), SSEEvent("b")]),  # mixed endings
    (b"data: a\n\n\n\ndata: b\n\n", [SSEEvent("a"), SSEEvent("b")]),
    (b"\xef\xbb\xbfdata: bom\n\n", [SSEEvent("bom")]),  # a leading BOM is dropped
    (b"data: \xe2\x80\xa8 stays\n\n", [SSEEvent("\u2028 stays")]),  # U+2028 is not a line break in SSE
    (b"data: \xff\n\n", [SSEEvent("\ufffd")]),  # invalid UTF-8 is replaced, never raised
    (b"data: no blank line at the end", [SSEEvent("no blank line at the end")]),
    (b"data: one newline at the end\n", [SSEEvent("one newline at the end")]),
    (b"data: a\n\ndata: tail\r", [SSEEvent("a"), SSEEvent("tail")]),
    (b"", []),
]


@pytest.mark.parametrize(("payload", "events"), FIELD_CASES)
def test_fields_and_dispatch(payload: bytes, events: list[SSEEvent]) -> None:
    assert decode_all(payload) == events


@pytest.mark.parametrize(("payload", "events"), FIELD_CASES)
def test_every_two_way_split_gives_the_same_events(payload: bytes, events: list[SSEEvent]) -> None:
    for cut in range(len(payload) + 1):
        assert decode_chunked(chunks_of(payload, [cut])) == events, cut


def test_retry_is_reported_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 3000\n\n") == []
    assert decoder.retry_ms == 3000
    decoder.feed(b"retry: 3s\n\nretry: -1\n\nretry:\n\n")
    assert decoder.retry_ms == 3000


def test_a_bom_is_dropped_only_at_the_start() -> None:
    assert decode_all(b"data: x\n\ndata: \xef\xbb\xbfy\n\n")[1].data == "\ufeffy"
    assert decode_chunked([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [SSEEvent("x")]


def test_cr_then_lf_in_the_next_chunk_is_one_line_break() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the \n completes the \r, it is not a blank line
    assert decoder.feed(b"\r") == [SSEEvent("a")]
    assert decoder.feed(b"\ndata: b\n\n") == [SSEEvent("b")]


def test_cr_then_cr_in_the_next_chunk_is_a_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [SSEEvent("a")]


def test_events_come_out_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: tw") == [SSEEvent("one")]
    assert decoder.feed(b"o\n") == []
    assert decoder.feed(b"\n") == [SSEEvent("two")]
    assert decoder.finish() == []


def test_a_long_line_in_many_chunks() -> None:
    text = "x" * 100_000 + "é" * 1000
    payload = f"data: {text}\n\n".encode()
    chunks = [payload[i : i + 7] for i in range(0, len(payload), 7)]
    assert decode_chunked(chunks) == [SSEEvent(text)]


def chunk_json(text: str, **extra: object) -> bytes:
    response = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}], **extra}
    return orjson.dumps({"response": response, "traceId": "abc"})


# A stream shaped like the upstream's, with what it can throw at us: CRLF, comments, multi-byte text
# (2-, 3- and 4-byte characters), an unknown field, a multi-line data event and no final blank line.
RECORDED = b"".join(
    [
        b": connected\r\n\r\n",
        b"data: " + chunk_json("Bonjour, d\u00e9j\u00e0 ") + b"\r\n\r\n",
        b"data: " + chunk_json("\u4e2d\u6587 \U0001f600 ") + b"\r\n\r\n",
        b"event: message\r\nid: 42\r\nretry: 1000\r\nx-unknown: 1\r\n",
        b"data: " + chunk_json("thinking", thought=True) + b"\r\n\r\n",
        b":\r\n\r\n",
        b'data: {"response":\ndata: {"candidates": []}}\n\n',
        b"data: " + chunk_json("fin", usageMetadata={"totalTokenCount": 9}),
    ]
)


def test_the_recorded_stream_one_shot() -> None:
    events = decode_all(RECORDED)
    assert [e.id for e in events] == ["", "", "42", "42", "42"]
    bodies = [event_json(e.data) for e in events]
    texts = [b["candidates"][0]["content"]["parts"][0]["text"] if b and b["candidates"] else None for b in bodies]
    assert texts == ["Bonjour, d\u00e9j\u00e0 ", "\u4e2d\u6587 \U0001f600 ", "thinking", None, "fin"]
    assert bodies[-1] is not None and bodies[-1]["usageMetadata"] == {"totalTokenCount": 9}


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_the_recorded_stream_in_every_split(ending: bytes) -> None:
    payload = RECORDED.replace(b"\r\n", b"\n").replace(b"\n", ending)
    expected = decode_all(payload)
    assert len(expected) == 5
    for cut in range(len(payload) + 1):
        assert decode_chunked(chunks_of(payload, [cut])) == expected, cut
    assert decode_chunked([payload[i : i + 1] for i in range(len(payload))]) == expected
    rng = random.Random(4)
    for _ in range(300):
        cuts = rng.sample(range(1, len(payload)), rng.randint(2, 12))
        assert decode_chunked(chunks_of(payload, cuts)) == expected, cuts


def test_event_json_unwraps_the_envelope() -> None:
    assert event_json('{"response": {"a": 1}, "traceId": "t"}') == {"a": 1}
    assert event_json('{"candidates": []}') == {"candidates": []}
    assert event_json('{"error": {"code": 429}}') == {"error": {"code": 429}}
    assert event_json('{"response": "not an object"}') == {"response": "not an object"}
    assert event_json("") is None
    assert event_json(" [DONE] ") is None


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "{not json", "42"])
def test_event_json_rejects_what_is_not_an_object(data: str) -> None:
    with pytest.raises(ValueError):
        event_json(data)


def test_unwrap_response() -> None:
    assert unwrap_response({"response": {"x": 1}}) == {"x": 1}
    assert unwrap_response({"x": 1}) == {"x": 1}
