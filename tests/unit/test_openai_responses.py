"""The Responses front end's rules that golden files do not show one by one: names, the reasoning blob across
turns and model families, tool choice, the verdict for every way a reply can end, and the stream's edges."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from trayagent.errors import BadRequest, RateLimited
from trayagent.translate import reasoning_blob
from trayagent.translate.hub import SSE_KEEPALIVE, ClientCall, ClientTarget, CountingIds
from trayagent.translate.openai_responses import IGNORED, RESPONSES
from trayagent.translate.openai_responses_tools import NAME_LIMIT, gemini_name
from trayagent.translate.outcome import FINISH_OUTCOMES


def parse(body: dict[str, Any], upstream: str = "gemini-3-flash", **headers: str) -> ClientCall:
    return RESPONSES.parse(body, ClientTarget(headers=headers, upstream_model=lambda _: upstream))


def events(wire: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(frame.split("\ndata: ", 1)[1]) for frame in wire.decode().split("\n\n") if "data: " in frame]


def streamed(call: ClientCall, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    encoder = RESPONSES.encoder(call, CountingIds())
    return events(b"".join(encoder.feed(chunk) for chunk in chunks) + encoder.finish())


def candidate(*parts: dict[str, Any], finish: str | None = "STOP") -> dict[str, Any]:
    found: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        found["finishReason"] = finish
    return {"candidates": [found]}


def test_namespaced_names_stay_within_gemini_limits_and_stay_distinct() -> None:
    long_a, long_b = gemini_name("x" * 60, "team_alpha"), gemini_name("x" * 60, "team_bravo")
    assert len(long_a) <= NAME_LIMIT and len(long_b) <= NAME_LIMIT and long_a != long_b
    assert long_a == gemini_name("x" * 60, "team_alpha")  # the same in every turn
    assert gemini_name("sleep", "clock") == "clock__sleep" and gemini_name("sleep") == "sleep"


def test_stream_round_trip_as_codex_does_it_replays_claude_thinking_and_the_call_signature() -> None:
    tool = {
        "type": "function",
        "name": "read",
        "parameters": {"type": "object", "properties": {"p": {"type": "string"}}},
    }
    first_input: list[dict[str, Any]] = [{"role": "user", "content": "read a.txt"}]
    body = {"model": "m", "input": first_input, "tools": [tool], "store": False, "stream": True}
    call = parse(body, "claude-opus-4-6-thinking")
    out = streamed(
        call,
        [
            candidate({"text": "Need the file.", "thought": True}, finish=None),
            candidate({"text": "", "thought": True, "thoughtSignature": "claude-sig"}, finish=None),
            candidate({"functionCall": {"id": "toolu_1", "name": "read", "args": {"p": "a.txt"}}}),
        ],
    )
    done = [event["item"] for event in out if event["type"] == "response.output_item.done"]  # Codex's history
    assert [item["type"] for item in done] == ["reasoning", "function_call"]
    follow = {
        **body,
        "input": [*first_input, *done, {"type": "function_call_output", "call_id": "toolu_1", "output": "hi"}],
    }
    contents = parse(follow, "claude-opus-4-6-thinking").hub.request["contents"]
    assert contents[1]["parts"] == [
        {"text": "Need the file.", "thought": True, "thoughtSignature": "claude-sig"},
        {"functionCall": {"name": "read", "args": {"p": "a.txt"}, "id": "toolu_1"}},
    ]


def test_signatures_of_another_model_family_are_not_replayed() -> None:
    blob = reasoning_blob.pack("claude", [["t", "thinking", "claude-sig"], ["c", "call_1", "claude-sig"]])
    items = [
        {"role": "user", "content": "go"},
        {"type": "reasoning", "summary": [], "encrypted_content": blob},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
    ]
    call = parse({"model": "m", "input": items}, "gemini-3-flash")
    assert call.hub.request["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "f", "args": {}, "id": "call_1"}}],
    }
    assert any("not replayed" in note for note in call.notes)


def test_a_reasoning_blob_survives_pack_and_unpack_and_refuses_tampering() -> None:
    packed = reasoning_blob.pack("gemini-3", [["x", "s"], ["c", "call", "s2"]])
    assert reasoning_blob.unpack(packed) == reasoning_blob.Blob("gemini-3", (["x", "s"], ["c", "call", "s2"]))
    assert reasoning_blob.unpack("gAAAA-openai-blob") is None
    with pytest.raises(reasoning_blob.CorruptBlob):
        reasoning_blob.unpack(packed[:-6])
    with pytest.raises(reasoning_blob.CorruptBlob):
        reasoning_blob.unpack(reasoning_blob.PREFIX + "W1sieCJdXQ")  # valid base64 JSON, not our shape


def test_allowed_tools_in_auto_mode_declares_only_those_tools() -> None:
    tools = [{"type": "function", "name": name} for name in ("a", "b", "c")]
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "b"}]}
    request = parse({"model": "m", "input": "x", "tools": tools, "tool_choice": choice}).hub.request
    assert [item["name"] for item in request["tools"][0]["functionDeclarations"]] == ["b"]
    assert "toolConfig" not in request
    choice["mode"] = "required"
    request = parse({"model": "m", "input": "x", "tools": tools, "tool_choice": choice}).hub.request
    assert request["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}}


def test_a_tool_named_in_a_namespace_can_be_chosen_by_its_short_name() -> None:
    namespace = {"type": "namespace", "name": "ns", "description": "", "tools": [{"type": "function", "name": "go"}]}
    body = {"model": "m", "input": "x", "tools": [namespace], "tool_choice": {"type": "function", "name": "go"}}
    config = parse(body).hub.request["toolConfig"]
    assert config == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["ns__go"]}}
    with pytest.raises(BadRequest, match="tool_choice.name: 'gone'"):
        parse({**body, "tool_choice": {"type": "function", "name": "gone"}})
    with pytest.raises(BadRequest, match="'required' needs"):
        parse({"model": "m", "input": "x", "tool_choice": "required"})


def test_a_second_tool_of_the_same_name_is_left_out_and_said() -> None:
    tool = {"type": "function", "name": "twin"}
    body = {
        "model": "m",
        "input": [{"type": "additional_tools", "role": "developer", "tools": [tool]}, {"role": "user", "content": "x"}],
        "tools": [tool],
    }
    call = parse(body)
    assert [item["name"] for item in call.hub.request["tools"][0]["functionDeclarations"]] == ["twin"]
    assert call.notes == ("input[0].tools[0]: a second tool named 'twin' was left out",)


@pytest.mark.parametrize("reason", sorted(FINISH_OUTCOMES) + ["SOMETHING_NEW"])
def test_every_finish_reason_gets_a_status_and_only_stop_completes(reason: str) -> None:
    reply = RESPONSES.render(
        parse({"model": "m", "input": "x"}), candidate({"text": "partial"}, finish=reason), CountingIds()
    )
    outcome = FINISH_OUTCOMES.get(reason)
    expected = {"stop": "completed", "length": "incomplete", "filtered": "incomplete"}.get(outcome or "", "failed")
    assert reply["status"] == expected
    if outcome in ("length", "filtered"):
        reason_word = "max_output_tokens" if outcome == "length" else "content_filter"
        assert reply["incomplete_details"] == {"reason": reason_word}
    if expected == "failed":
        assert reason in reply["error"]["message"]


def test_an_empty_answer_or_a_missing_finish_reason_is_failed() -> None:
    call = parse({"model": "m", "input": "x"})
    only_thoughts = candidate({"text": "hmm", "thought": True})
    assert RESPONSES.render(call, only_thoughts, CountingIds())["status"] == "failed"
    assert RESPONSES.render(call, candidate({"text": "cut"}, finish=None), CountingIds())["status"] == "failed"


def test_a_blocked_prompt_is_incomplete_content_filter() -> None:
    reply = RESPONSES.render(
        parse({"model": "m", "input": "x"}), {"promptFeedback": {"blockReason": "SAFETY"}}, CountingIds()
    )
    assert (reply["status"], reply["incomplete_details"]) == ("incomplete", {"reason": "content_filter"})


def test_fail_before_any_chunk_still_opens_then_fails_the_response() -> None:
    encoder = RESPONSES.encoder(parse({"model": "m", "input": "x", "stream": True}), CountingIds())
    out = events(encoder.fail(RateLimited("every account is cooling down")))
    assert [event["type"] for event in out] == ["response.created", "response.in_progress", "error", "response.failed"]
    assert out[-1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "every account is cooling down"}
    assert encoder.finish() == b"" and encoder.feed(candidate({"text": "late"})) == b""


def test_keepalive_is_an_sse_comment() -> None:
    encoder = RESPONSES.encoder(parse({"model": "m", "input": "x", "stream": True}), CountingIds())
    assert encoder.keepalive() == SSE_KEEPALIVE and SSE_KEEPALIVE.startswith(b":")


def test_parallel_calls_stream_one_item_each_with_unique_call_ids() -> None:
    call = parse({"model": "m", "input": "x", "stream": True, "tools": [{"type": "function", "name": "f"}]})
    same_id = {"functionCall": {"id": "dup", "name": "f", "args": {}}}
    out = streamed(call, [candidate(same_id, same_id)])
    calls = [event["item"] for event in out if event["type"] == "response.output_item.done"]
    assert [item["type"] for item in calls] == ["function_call", "function_call"]
    assert calls[0]["call_id"] == "dup" and calls[1]["call_id"] != "dup"


def test_the_session_key_comes_from_prompt_cache_key_then_the_session_header() -> None:
    by_key = parse({"model": "m", "input": "x", "prompt_cache_key": "conv-1"}).hub.session_key
    by_header = parse({"model": "m", "input": "x"}, **{"session-id": "conv-1"}).hub.session_key
    by_text = parse({"model": "m", "input": "x"}).hub.session_key
    assert by_key == by_header != by_text and by_text is not None


def test_fields_without_upstream_meaning_are_accepted_and_the_rest_refused() -> None:
    body: dict[str, Any] = {"model": "m", "input": "x", **{key: "v" for key in IGNORED}}
    parse({**body, "text": {"verbosity": "low"}, "reasoning": {"context": "all_turns"}})
    for field, value in [("conversation", "conv_1"), ("prompt", {"id": "p"}), ("seed", 3), ("top_logprobs", 2)]:
        with pytest.raises(BadRequest, match=field):
            parse({"model": "m", "input": "x", field: value})
    with pytest.raises(BadRequest, match="text.format.type"):
        parse({"model": "m", "input": "x", "text": {"format": {"type": "yaml"}}})


PLAIN_ITEMS = [
    {"role": "user", "content": [{"type": "input_text", "text": "a"}]},
    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
    {"type": "message", "role": "system", "content": [{"type": "text", "text": "more rules"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "b"}], "id": "msg_1"},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ""}]},
    {"type": "message", "role": "user", "content": []},
    {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "c"}, {"type": "text", "text": "d"}],
    },
]


@pytest.mark.parametrize("item", PLAIN_ITEMS, ids=lambda item: f"{item['role']}-{len(item['content'])}")
def test_a_plain_message_item_reads_the_same_on_the_short_path_as_on_the_general_reader(item: dict[str, Any]) -> None:
    from trayagent.translate.openai_responses_input import _Reader

    short, general = _Reader("gemini-2.5"), _Reader("gemini-2.5")
    assert short.plain_message(item)
    general.item("input[0]", item)
    assert (short.out.contents, short.out.system) == (general.out.contents, general.out.system)


@pytest.mark.parametrize(
    "item",
    [
        {"type": "message", "role": "user", "content": "a string"},  # the general reader takes it
        {"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": 3}]},  # a 400 there
        {"type": "message", "role": "boss", "content": []},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        ["not", "an", "item"],
        "not an item",
        {"type": "message", "role": ["user"], "content": []},  # a role no string names
        {"type": "message", "content": [{"type": "input_text", "text": "no role"}]},
        {"type": "message", "role": "user"},  # no content
        {"type": "message", "role": "user", "content": ["a string block"]},
        {"type": "message", "role": "user", "content": [{"type": {"input_text": 1}, "text": "x"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text"}]},  # no text
        {"type": "message", "role": "user", "content": [{"text": "no type"}]},
    ],
)
def test_anything_else_is_left_to_the_general_reader(item: Any) -> None:
    from trayagent.translate.openai_responses_input import _Reader

    reader = _Reader("gemini-2.5")
    assert not reader.plain_message(item)
    assert (reader.out.contents, reader.out.system) == ([], [])


@pytest.mark.parametrize(
    "chunks",
    [
        [candidate({"text": "Hello"}, finish=None), candidate({"text": " there"})],  # completed
        [candidate({"text": "cut"}, finish="MAX_TOKENS")],  # incomplete
        [candidate({"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2ln"})],  # a call
        [candidate({"text": "half"}, finish=None)],  # no finish reason: failed
    ],
)
def test_a_streamed_reply_keeps_the_response_its_terminal_event_sent(chunks: list[dict[str, Any]]) -> None:
    """What the relay stores of a streamed reply (`encoder.response`, made lazily) is the object the client read
    in the last event, and the object a call that did not stream would get."""
    call = parse({"model": "gemini-3-flash", "input": "hi", "stream": True, "tools": [_FUNCTION]})
    encoder = RESPONSES.encoder(call, CountingIds())
    assert encoder.response is None
    wire = b"".join(encoder.feed(chunk) for chunk in chunks) + encoder.finish()
    terminal = events(wire)[-1]
    assert terminal["type"] in ("response.completed", "response.incomplete", "response.failed")
    assert encoder.response == terminal["response"]
    merged = {"candidates": [{**chunks[-1]["candidates"][0], "content": {"role": "model", "parts": [
        part for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]
    ]}}]}  # fmt: skip
    rendered = RESPONSES.render(call, merged, CountingIds())
    assert {**rendered, "output": [{**item, "id": ""} for item in rendered["output"]]} == {
        **terminal["response"],
        "output": [{**item, "id": ""} for item in terminal["response"]["output"]],
    }


_FUNCTION = {
    "type": "function",
    "name": "f",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
}
