"""Golden files for the Anthropic front ends: `tests/golden/anthropic/` (messages) and
`tests/golden/anthropic_count_tokens/`. Besides golden.py's files, a messages case may hold `broken.json`
({"message"}): the stream then breaks after its chunks (the relay calls `fail` with StreamBroken) and the bytes
are compared with `broken.txt`."""

from __future__ import annotations

import re

import pytest

from tests.golden import UPDATE, Case, cases, encode_stream, run_case
from tests.schema_rules import parameters_problems, schema_problems
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


GEMINI_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
WITH_REQUEST = [c for c in cases("anthropic") + cases("anthropic_count_tokens") if c.has("hub.json")]


@pytest.mark.parametrize("case", WITH_REQUEST, ids=lambda c: c.name)
def test_requests_hold_what_cloud_code_accepts(case: Case) -> None:
    request = case.read("hub.json")["request"]
    for tools in request.get("tools", []):
        for declaration in tools["functionDeclarations"]:
            assert GEMINI_NAME.fullmatch(declaration["name"])
            if "parameters" in declaration:
                assert parameters_problems(declaration["parameters"]) == []
    schema = request.get("generationConfig", {}).get("responseSchema")
    assert schema is None or schema_problems(schema) == []
    roles = [turn["role"] for turn in request["contents"]]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False)), "same-role turns are merged"
    assert all(turn["parts"] for turn in request["contents"])
    assert "cache_control" not in str(request)


@pytest.mark.parametrize("case", cases("anthropic_count_tokens"), ids=lambda c: c.name)
def test_count_tokens(case: Case) -> None:
    call = run_case(COUNT_TOKENS, case)
    if call is not None:
        assert call.operation == "count_tokens" and not call.stream


def test_every_folder_is_a_case() -> None:
    assert len(cases("anthropic")) >= 50 and len(cases("anthropic_count_tokens")) >= 5
