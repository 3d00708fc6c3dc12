"""Golden files for the Anthropic front ends: `tests/golden/anthropic/` (messages) and
`tests/golden/anthropic_count_tokens/`. Besides golden.py's files, a messages case may hold `broken.json`
({"message"}): the stream then breaks after its chunks (the relay calls `fail` with StreamBroken) and the bytes
are compared with `broken.txt`."""

from __future__ import annotations

import pytest

from tests.golden import UPDATE, Case, cases, encode_stream, run_case
from trayagent.errors import StreamBroken
from trayagent.translate.anthropic import COUNT_TOKENS, MESSAGES


@pytest.mark.parametrize("case", cases("anthropic"), ids=lambda c: c.name)
def test_messages(case: Case) -> None:
    call = run_case(MESSAGES, case)
    if case.has("broken.json"):
        assert call is not None and call.stream
        wire = encode_stream(
            MESSAGES, call, case.read("chunks.json"), StreamBroken(case.read("broken.json")["message"])
        )
        path = case.folder / "broken.txt"
        if UPDATE:
            path.write_bytes(wire)
        assert wire == path.read_bytes()


@pytest.mark.parametrize("case", cases("anthropic_count_tokens"), ids=lambda c: c.name)
def test_count_tokens(case: Case) -> None:
    call = run_case(COUNT_TOKENS, case)
    if call is not None:
        assert call.operation == "count_tokens" and not call.stream


def test_every_folder_is_a_case() -> None:
    assert len(cases("anthropic")) >= 50 and len(cases("anthropic_count_tokens")) >= 5
