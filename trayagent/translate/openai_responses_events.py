"""The Responses stream's events as bytes: templates the reply builder (openai_responses_reply.py) fills in, each
the bytes orjson writes for the event's object, so that the commonest events cost one `%` and orjson only on
their strings. The golden streams hold these bytes.

`%d`: a sequence number or an index; `%s`: JSON (a value, or an event's `"item_id":…,"output_index":…` members).
"""

from __future__ import annotations

EVENT = b'event: %s\ndata: {"type":"%s","sequence_number":%d,%s\n\n'  # the fields' JSON without its `{`
RESPONSE_EVENT = b'event: %s\ndata: {"type":"%s","sequence_number":%d,"response":%s}\n\n'
# The `response` object as orjson writes the builder's `_core(…)` and the echoed settings: its head (id,
# created_at) made once per stream, then the status, error, incomplete_details, model, output, usage, the
# settings and `}` or completed_at.
RESPONSE_HEAD = b'{"id":%s,"object":"response","created_at":%d,"status":"'
RESPONSE_REST = b'%s%s","error":%s,"incomplete_details":%s,"model":%s,"output":%s,"usage":%s%s%s'
USAGE = (
    b'{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d,"cache_write_tokens":0},"output_tokens":%d,'
    b'"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d}'
)
ITEM_DONE = (
    b"event: response.output_item.done\n"
    b'data: {"type":"response.output_item.done","sequence_number":%d,"output_index":%d,"item":%s}\n\n'
)
MESSAGE_ADDED = (
    b"event: response.output_item.added\n"
    b'data: {"type":"response.output_item.added","sequence_number":%d,"output_index":%d,"item":{"id":%s,'
    b'"type":"message","role":"assistant","status":"in_progress","content":[]}}\n\n'
)
PART_ADDED = (
    b"event: response.content_part.added\n"
    b'data: {"type":"response.content_part.added","sequence_number":%d,%s,"content_index":0,'
    b'"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}}\n\n'
)
TEXT_DONE = (
    b"event: response.output_text.done\n"
    b'data: {"type":"response.output_text.done","sequence_number":%d,%s,"content_index":0,"text":%s,"logprobs":[]}\n\n'
)
PART_DONE = (
    b"event: response.content_part.done\n"
    b'data: {"type":"response.content_part.done","sequence_number":%d,%s,"content_index":0,'
    b'"part":{"type":"output_text","text":%s,"annotations":[],"logprobs":[]}}\n\n'
)
TEXT_DELTA = (
    b"event: response.output_text.delta\n"
    b'data: {"type":"response.output_text.delta","sequence_number":%d,%s,"content_index":0,"delta":%s,'
    b'"logprobs":[]}\n\n'
)
