"""Golden files for the OpenAI chat completions front end (tests/golden/openai_chat/): body → hub request,
hub chunks → `chat.completion` or the chunk stream. A case with `fail.json` also has its stream end with
`fail()` (Google broke off part-way) and compares `failed.txt`."""

from __future__ import annotations

import pytest

from tests.golden import UPDATE, Case, cases, encode_stream, run_case
from trayagent.errors import StreamBroken
from trayagent.translate.openai_chat import CHAT

CASES = cases("openai_chat")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_golden(case: Case) -> None:
    call = run_case(CHAT, case)
    if not case.has("fail.json"):
        return
    assert call is not None and call.stream
    wire = encode_stream(CHAT, call, case.read("chunks.json"), StreamBroken(case.read("fail.json")["message"]))
    path = case.folder / "failed.txt"
    if UPDATE:
        path.write_bytes(wire)
    assert wire == path.read_bytes(), f"{case.name}/failed.txt differs:\n{wire.decode()}"


def test_the_cases_cover_what_the_front_end_must_prove() -> None:
    names = {case.folder.name for case in CASES}
    for needed in (
        "simple_text",
        "simple_text_stream",
        "system_and_developer",
        "multi_turn_tools_signatures",
        "parallel_calls",
        "parallel_calls_stream",
        "n2_stream",
        "images_and_files",
        "json_schema",
        "reasoning",
        "reasoning_stream",
        "finish_max_tokens",
        "finish_safety_stream",
        "finish_malformed_call_stream",
        "finish_empty_stream",
        "error_mid_stream",
    ):
        assert needed in names
    assert sum(name.startswith("bad_") for name in names) >= 15
