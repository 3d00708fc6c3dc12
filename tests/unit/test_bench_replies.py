"""The bench's load generator counts a reply only when it is complete: every front end's real reply to the
bench's fake upstream passes its row's check, and a reply cut short, ended by an error event, stopped for
another reason or carrying other text does not."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench_fake import STATIC, TEXTS
from bench_replies import check
from bench_rows import rows
from bench_translate import one_request, prepared

from trayagent.errors import StreamBroken
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import CountingIds

TEXT = "".join(TEXTS)
ROWS = rows()
STREAM_ROWS = [name for name, row in ROWS.items() if row.stream]
JSON_ROWS = [name for name, row in ROWS.items() if not row.stream]


def _http_body(response: bytes) -> bytes:
    """The body of one of the fake's precomputed HTTP responses, de-chunked when chunked."""
    head, _, body = response.partition(b"\r\n\r\n")
    if b"chunked" not in head.lower():
        return body
    out, rest = [], body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        rest = rest[size + 2 :]


@pytest.mark.parametrize("name", list(ROWS))
def test_each_front_ends_reply_counts(name: str) -> None:
    assert check(ROWS[name].reply, one_request(name)(), TEXT) is None


def test_the_fakes_own_replies_count_for_the_direct_target() -> None:
    json_reply = _http_body(STATIC[(b"POST", b"/v1internal:generateContent")])
    stream_reply = _http_body(STATIC[(b"POST", b"/v1internal:streamGenerateContent?alt=sse")])
    assert check("cloudcode-json", json_reply, TEXT) is None
    assert check("cloudcode-stream", stream_reply, TEXT) is None
    assert check("gemini-stream", stream_reply, TEXT) is not None  # still wrapped in `response`


@pytest.mark.parametrize("name", STREAM_ROWS)
def test_a_stream_without_its_last_event_does_not_count(name: str) -> None:
    body = one_request(name)().replace(b"\r\n", b"\n")  # Gemini's events end in CRLF CRLF
    cut = body.rstrip().rsplit(b"\n\n", 1)[0] + b"\n\n"
    assert len(cut) < len(body)
    assert check(ROWS[name].reply, cut, TEXT) is not None


@pytest.mark.parametrize("name", STREAM_ROWS)
def test_a_stream_ended_by_an_error_event_does_not_count(name: str) -> None:
    frontend, parse, chunks = prepared(name)
    encoder = frontend.encoder(parse(), CountingIds())
    body = b"".join(encoder.feed(chunk) for chunk in chunks) + encoder.fail(StreamBroken("cut off"))
    assert check(ROWS[name].reply, body, TEXT) is not None


def _stopped_at_max_tokens(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last = orjson.loads(orjson.dumps(chunks[-1]))
    last["candidates"][0]["finishReason"] = "MAX_TOKENS"
    return [*chunks[:-1], last]


@pytest.mark.parametrize("name", list(ROWS))
def test_a_reply_stopped_by_the_token_limit_does_not_count(name: str) -> None:
    frontend, parse, chunks = prepared(name)
    call, chunks = parse(), _stopped_at_max_tokens(chunks)
    if call.stream:
        encoder = frontend.encoder(call, CountingIds())
        body = b"".join(encoder.feed(chunk) for chunk in chunks) + encoder.finish()
    else:
        body = orjson.dumps(frontend.render(call, merge_chunks(chunks), CountingIds()))
    assert check(ROWS[name].reply, body, TEXT) is not None


@pytest.mark.parametrize("name", list(ROWS))
def test_a_reply_with_other_text_does_not_count(name: str) -> None:
    assert check(ROWS[name].reply, one_request(name)(), TEXT + " More.") == "text differs from what the upstream sent"


@pytest.mark.parametrize("name", JSON_ROWS)
def test_a_json_reply_cut_short_does_not_count(name: str) -> None:
    body = one_request(name)()
    assert check(ROWS[name].reply, body[: len(body) // 2], TEXT) is not None
