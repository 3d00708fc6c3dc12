"""The Responses stream's events as bytes: templates the reply builder (openai_responses_reply.py) fills in, each
the bytes orjson writes for the event's object, so that the commonest events cost one `%` and orjson only on
their strings. Events that always go out together share one template (one `%` for several events: each costs
about as much as a small event). The golden streams hold these bytes.

`%d`: a sequence number, an index, a time or a token count; `%s`: JSON (a value, an event's
`"item_id":…,"output_index":…` members, or the echoed request settings' members after a `,`).
"""

from __future__ import annotations

from typing import Final

EVENT: Final = b'event: %s\ndata: {"type":"%s","sequence_number":%d,%s\n\n'  # the fields' JSON without its `{`

_USAGE: Final = (
    b'{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d,"cache_write_tokens":0},"output_tokens":%d,'
    b'"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d}'
)


def _response_event(
    name: bytes, seq: bytes, status: bytes, error: bytes, incomplete: bytes, output: bytes, usage: bytes, end: bytes
) -> bytes:
    """An event carrying the `response` object as orjson writes the builder's `_core(…)` and the echoed settings.
    The arguments are literal JSON or placeholders; the id (`%s`), created_at (`%d`), the model (`%s`) and the
    settings (`%s`) are always placeholders, in that order among the others."""
    return (
        b"event: " + name + b'\ndata: {"type":"' + name + b'","sequence_number":' + seq
        + b',"response":{"id":%s,"object":"response","created_at":%d,"status":"' + status
        + b'","error":' + error + b',"incomplete_details":' + incomplete + b',"model":%s,"output":' + output
        + b',"usage":' + usage + b"%s" + end + b"}\n\n"
    )  # fmt: skip


# response.created and response.in_progress, always the first two: (id, created_at, model, settings) twice.
OPENING: Final = _response_event(
    b"response.created", b"0", b"in_progress", b"null", b"null", b"[]", b"null", b"}"
) + _response_event(b"response.in_progress", b"1", b"in_progress", b"null", b"null", b"[]", b"null", b"}")
# response.completed: (seq, id, created_at, model, output, the five usage counts, settings, completed_at).
COMPLETED: Final = _response_event(
    b"response.completed", b"%d", b"completed", b"null", b"null", b"%s", _USAGE, b',"completed_at":%d}'
)
# response.incomplete or response.failed: (name, name, seq, id, created_at, status, error, incomplete_details,
# model, output, the five usage counts, settings).
ENDED: Final = _response_event(b"%s", b"%d", b"%s", b"%s", b"%s", b"%s", _USAGE, b"}")
ITEM_DONE: Final = (
    b"event: response.output_item.done\n"
    b'data: {"type":"response.output_item.done","sequence_number":%d,"output_index":%d,"item":%s}\n\n'
)
# A message item added and its one output_text part added: (seq, index, item id, seq + 1, item_id/output_index).
MESSAGE_OPENED: Final = (
    b"event: response.output_item.added\n"
    b'data: {"type":"response.output_item.added","sequence_number":%d,"output_index":%d,"item":{"id":%s,'
    b'"type":"message","role":"assistant","status":"in_progress","content":[]}}\n\n'
    b"event: response.content_part.added\n"
    b'data: {"type":"response.content_part.added","sequence_number":%d,%s,"content_index":0,'
    b'"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}}\n\n'
)
# A message's text done and its part done: (seq, item_id/output_index, text, seq + 1, item_id/output_index, text).
MESSAGE_TEXT_DONE: Final = (
    b"event: response.output_text.done\n"
    b'data: {"type":"response.output_text.done","sequence_number":%d,%s,"content_index":0,"text":%s,"logprobs":[]}\n\n'
    b"event: response.content_part.done\n"
    b'data: {"type":"response.content_part.done","sequence_number":%d,%s,"content_index":0,'
    b'"part":{"type":"output_text","text":%s,"annotations":[],"logprobs":[]}}\n\n'
)
TEXT_DELTA: Final = (
    b"event: response.output_text.delta\n"
    b'data: {"type":"response.output_text.delta","sequence_number":%d,%s,"content_index":0,"delta":%s,'
    b'"logprobs":[]}\n\n'
)
