"""The Gemini-native front end against its golden files, and its stream framing when Google fails part-way."""

from __future__ import annotations

import orjson
import pytest

from tests.golden import Case, cases, encode_stream, run_case
from trayagent.errors import StreamBroken
from trayagent.translate.gemini import GEMINI
from trayagent.translate.hub import ClientCall, ClientTarget, CountingIds, HubRequest

CASES = cases("gemini")


def test_there_are_cases() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_golden(case: Case) -> None:
    run_case(GEMINI, case)


def test_a_count_tokens_reply_always_has_total_tokens() -> None:
    call = GEMINI.parse({"contents": [{"parts": [{"text": "x"}]}]}, ClientTarget(params={"target": "m:countTokens"}))
    assert GEMINI.render(call, {}, CountingIds()) == {"totalTokens": 0}
    assert GEMINI.render(call, {"totalTokens": 3, "x": 1}, CountingIds()) == {"totalTokens": 3, "x": 1}


@pytest.mark.parametrize("sse", [True, False])
def test_a_failure_part_way_is_a_last_element_and_the_framing_closes(sse: bool) -> None:
    call = ClientCall(HubRequest("m", {}), "generate", True, echo=sse)
    chunk = {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}
    out = encode_stream(GEMINI, call, [chunk], StreamBroken("the reply from Google broke off part-way: cut"))
    error = {
        "error": {"code": 502, "message": "the reply from Google broke off part-way: cut", "status": "UNAVAILABLE"}
    }
    if sse:
        events = [orjson.loads(line.removeprefix(b"data: ")) for line in out.split(b"\r\n\r\n") if line]
        assert events == [chunk, error]
    else:
        assert orjson.loads(out) == [chunk, error]


def test_an_empty_array_stream_still_closes() -> None:
    call = ClientCall(HubRequest("m", {}), "generate", True, echo=False)
    assert encode_stream(GEMINI, call, []) == b"[]"
    assert GEMINI.encoder(call, CountingIds()).keepalive() == b""
