"""Golden cases of the Responses front end (tests/golden/openai_responses/), every output also read back by the
official SDK's strict models: the `response` object, each stream event, and the accumulated stream.

Beyond tests/golden.py's files a case holds `extras.json` (the call's response headers, its log notes, and the
conversation the response store keeps with the reply: null when none is kept) and, with chunks.json, may hold
`fail.txt`: the stream when Google breaks after those chunks.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai import omit
from openai.lib.streaming.responses import ResponseStreamState
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from tests.golden import UPDATE, Case, cases, encode_stream, run_case, target_of
from trayagent.errors import StreamBroken
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import ClientCall, CountingIds
from trayagent.translate.openai_responses import RESPONSES

CASES = cases("openai_responses")
BROKEN = [case for case in CASES if case.name.endswith("/mid_stream_error")]
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def stream_events(wire: bytes) -> list[Any]:
    """The events of an SSE body, each validated by the SDK's strict models; `event:` must match `type`."""
    events = []
    for frame in wire.decode().split("\n\n"):
        if not frame or frame.startswith(":"):
            continue
        name, data = frame.split("\n")
        event = EVENTS.validate_python(orjson.loads(data.removeprefix("data: ")), strict=False)
        assert name == f"event: {event.type}"
        events.append(event)
    return events


def _check(case: Case, name: str, actual: bytes) -> None:
    path = case.folder / name
    if UPDATE:
        path.write_bytes(actual)
    assert path.read_bytes() == actual, f"{case.name}/{name} differs"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_golden(case: Case) -> None:
    call = run_case(RESPONSES, case)
    if call is None:
        return
    keep = list(call.keep) if call.keep is not None else None
    extras = {"headers": dict(call.headers), "notes": list(call.notes), "keep": keep}
    _check(case, "extras.json", orjson.dumps(extras, option=orjson.OPT_INDENT_2) + b"\n")
    if not case.has("chunks.json"):
        return
    chunks = case.read("chunks.json")
    if call.stream:
        _accumulates(call, encode_stream(RESPONSES, call, chunks))
    else:
        Response.model_validate(RESPONSES.render(call, merge_chunks(chunks), CountingIds()), strict=False)


def _accumulates(call: ClientCall, wire: bytes) -> None:
    """The SDK's own stream accumulator takes the events in order and ends on the terminal response."""
    events = stream_events(wire)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[], text_format=omit)
    for event in events:
        state.handle_event(event)
    terminal = events[-1]
    assert terminal.type in ("response.completed", "response.incomplete", "response.failed")
    assert terminal.response.model == call.echo.model


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_golden_failure_mid_stream(case: Case) -> None:
    call = RESPONSES.parse(case.read("client.json"), target_of(case))
    wire = encode_stream(RESPONSES, call, case.read("chunks.json"), StreamBroken("the upstream stream broke off"))
    _check(case, "fail.txt", wire)
    events = stream_events(wire)
    assert [event.type for event in events[-2:]] == ["error", "response.failed"]
