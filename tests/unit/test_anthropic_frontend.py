"""The Anthropic front ends' rules that golden files do not show: every Gemini finish reason classified, broken
replies never a silent end_turn, notes and headers, session keys, round trips of signatures and tool ids, the
stream encoder's life cycle, count_tokens' estimate."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from google.genai import types as genai

from trayagent.errors import BadRequest, InternalError, StreamBroken
from trayagent.translate.anthropic import COUNT_TOKENS, MESSAGES
from trayagent.translate.anthropic_content import gemini_name
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import ClientCall, ClientTarget, CountingIds

SIGNATURE = "Es8BCkYIBhgCKkDL-a-signature-google-gave=="
TARGET = ClientTarget(upstream_model=lambda name: "claude-opus-4-6-thinking")


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "claude-opus-5-5", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}], **extra}


def parse(**extra: Any) -> ClientCall:
    return MESSAGES.parse(body(**extra), TARGET)


def reply(*parts: dict[str, Any], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}, **extra}


def render(call: ClientCall, merged: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = MESSAGES.render(call, merged, CountingIds())
    return message


# -- finish reasons -------------------------------------------------------------------------------------------


# How each Gemini finish reason ends an Anthropic reply that holds text; any reason not here is an error.
STOPS = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "CONTINUATION": "max_tokens",
    **dict.fromkeys(
        (
            "SAFETY",
            "RECITATION",
            "LANGUAGE",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
            "MODEL_ARMOR",
            "ESCALATION",
            "PUP_LIMITED_DISABLED",
        ),
        "refusal",
    ),
}


@pytest.mark.parametrize("reason", sorted(r.value for r in genai.FinishReason))
def test_each_finish_reason_ends_as_its_class_says(reason: str) -> None:
    merged = reply({"text": "partial answer"}, finish=reason)
    if reason not in STOPS:
        with pytest.raises(StreamBroken, match=reason):
            render(parse(), merged)
        wire = MESSAGES.encoder(parse(stream=True), CountingIds())
        out = wire.feed(merged) + wire.finish()
        assert b"event: error" in out and b"message_stop" not in out
        return
    assert render(parse(), merged)["stop_reason"] == STOPS[reason]


def test_a_finish_reason_google_adds_later_is_an_error_not_an_end_turn() -> None:
    with pytest.raises(StreamBroken, match="SOMETHING_NEW"):
        render(parse(), reply({"text": "x"}, finish="SOMETHING_NEW"))


@pytest.mark.parametrize(
    "merged",
    [
        {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP", "index": 0}]},
        {"candidates": []},
        {},
        reply({"text": "only thinking", "thought": True, "thoughtSignature": SIGNATURE}),
        reply({"text": ""}),
    ],
    ids=["no-parts", "no-candidates", "nothing", "thinking-only", "empty-text"],
)
def test_an_empty_reply_is_an_error(merged: dict[str, Any]) -> None:
    with pytest.raises(StreamBroken, match="no text and no tool call"):
        render(parse(), merged)


def test_a_blocked_prompt_is_a_refusal_that_says_why() -> None:
    message = render(parse(), {"promptFeedback": {"blockReason": "SAFETY"}})
    assert message["stop_reason"] == "refusal"
    assert message["stop_details"]["explanation"] == "Google blocked the prompt (SAFETY)"
    assert message["content"] == []


def test_a_stop_sequence_is_reported_only_when_the_text_ends_with_it() -> None:
    call = parse(stop_sequences=["###", "END"])
    assert render(call, reply({"text": "done END"}))["stop_sequence"] == "END"
    assert render(call, reply({"text": "done"}))["stop_reason"] == "end_turn"


# -- replies --------------------------------------------------------------------------------------------------


def test_omitted_thinking_keeps_the_signature_and_drops_unsigned_thoughts() -> None:
    call = parse(thinking={"type": "adaptive", "display": "omitted"})
    merged = reply(
        {"text": "first idea", "thought": True},
        {"text": "second idea", "thought": True, "thoughtSignature": SIGNATURE},
        {"text": "Answer."},
    )
    content = render(call, merged)["content"]
    assert content == [
        {"type": "thinking", "thinking": "", "signature": SIGNATURE},
        {"type": "text", "text": "Answer."},
    ]


def test_a_thought_google_did_not_sign_gets_an_empty_signature_never_a_made_up_one() -> None:
    content = render(parse(), reply({"text": "idea", "thought": True}, {"text": "Answer."}))["content"]
    assert content[0] == {"type": "thinking", "thinking": "idea", "signature": ""}


def test_text_google_signed_is_still_one_text_block_and_its_signature_is_not_sent() -> None:
    merged = merge_chunks([reply({"text": "Hel", "thoughtSignature": SIGNATURE}), reply({"text": "lo"})])
    message = render(parse(), merged)
    assert message["content"] == [{"type": "text", "text": "Hello"}]
    assert SIGNATURE not in orjson.dumps(message).decode()


def test_disable_parallel_tool_use_keeps_the_first_call_only() -> None:
    tool = {"name": "Read", "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}
    call = parse(tools=[tool], tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    merged = reply(
        {"functionCall": {"name": "Read", "args": {"p": "a"}, "id": "c1"}},
        {"functionCall": {"name": "Read", "args": {"p": "b"}, "id": "c2"}},
    )
    assert [block["id"] for block in render(call, merged)["content"]] == ["c1"]
    assert "toolConfig" not in call.hub.request  # auto is Google's default


def test_tool_use_ids_are_unique_in_a_reply_even_when_google_repeats_one() -> None:
    # Claude Code answers each tool_use by its id: two blocks sharing one could not both be answered.
    tool = {"name": "Read", "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}
    calls = (
        {"functionCall": {"name": "Read", "args": {"p": "a"}, "id": "same"}},
        {"functionCall": {"name": "Read", "args": {"p": "b"}, "id": "same"}},
        {"functionCall": {"name": "Read", "args": {"p": "c"}}},
    )
    whole = [block["id"] for block in render(parse(tools=[tool]), reply(*calls))["content"]]
    encoder = MESSAGES.encoder(parse(stream=True, tools=[tool]), CountingIds())
    wire = b"".join(encoder.feed(reply(call, finish=None)) for call in calls) + encoder.finish()
    starts = [orjson.loads(line[6:]) for line in wire.splitlines() if line.startswith(b"data: ")]
    streamed = [e["content_block"]["id"] for e in starts if e["type"] == "content_block_start"]
    for ids in (whole, streamed):
        assert ids[0] == "same" and len(set(ids)) == 3
        assert all(re.fullmatch(r"toolu_\w+", i) for i in ids[1:])


def test_an_image_google_draws_becomes_markdown_in_the_text() -> None:
    merged = reply({"text": "Here: "}, {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}})
    assert render(parse(), merged)["content"] == [
        {"type": "text", "text": "Here: ![image](data:image/png;base64,iVBOR)"}
    ]


def test_the_reply_names_the_model_the_client_asked_for() -> None:
    assert render(parse(), reply({"text": "x"}, modelVersion="claude-opus-4-6-thinking"))["model"] == "claude-opus-5-5"


# -- round trips ----------------------------------------------------------------------------------------------


def test_a_thinking_block_comes_back_to_google_with_its_signature() -> None:
    tool = {"name": "Read", "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}
    first = render(
        parse(tools=[tool]),
        reply(
            {"text": "look first", "thought": True, "thoughtSignature": SIGNATURE},
            {"functionCall": {"name": "Read", "args": {"p": "/x"}}},
        ),
    )
    tool_use = first["content"][1]
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "data"}]},
    ]
    request = parse(tools=[tool], messages=messages).hub.request
    model_turn = request["contents"][1]["parts"]
    assert model_turn[0] == {"text": "look first", "thought": True, "thoughtSignature": SIGNATURE}
    assert model_turn[1]["functionCall"] == {"name": "Read", "args": {"p": "/x"}, "id": tool_use["id"]}
    answer = request["contents"][2]["parts"][0]["functionResponse"]
    assert answer == {"name": "Read", "id": tool_use["id"], "response": {"output": "data"}}


def test_a_tool_name_google_cannot_take_is_mapped_there_and_back() -> None:
    tool = {"name": "2fa-code", "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    call = parse(tools=[tool])
    declared = call.hub.request["tools"][0]["functionDeclarations"][0]["name"]
    assert declared != "2fa-code" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}", declared)
    block = render(call, reply({"functionCall": {"name": declared, "args": {"n": 1}, "id": "k"}}))["content"][0]
    assert block["name"] == "2fa-code"
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [block]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "k", "content": "123456"}]},
    ]
    contents = parse(tools=[tool], messages=history).hub.request["contents"]
    assert contents[1]["parts"][0]["functionCall"]["name"] == declared
    assert contents[2]["parts"][0]["functionResponse"]["name"] == declared


@pytest.mark.parametrize("name", ["Read", "mcp__srv__tool", "a.b:c-d", "_x", "x" * 64])
def test_valid_gemini_names_are_kept(name: str) -> None:
    assert gemini_name(name) == name


def test_long_names_map_to_distinct_valid_names() -> None:
    one, two = "mcp__" + "a" * 80 + "_one", "mcp__" + "a" * 80 + "_two"
    assert gemini_name(one) != gemini_name(two)
    assert all(len(gemini_name(n)) <= 64 and gemini_name(n) == gemini_name(n) for n in (one, two))


# -- notes, headers, history repairs --------------------------------------------------------------------------


def test_ignored_fields_and_dropped_tools_are_noted_once_and_dropped_tools_named_in_a_header() -> None:
    tools = [
        {"type": "web_search_20250305", "name": "web_search"},
        {"name": "Read", "input_schema": {"type": "object"}},
    ]
    call = parse(tools=tools, context_management={"edits": []}, mcp_servers=[], new_thing=1)
    assert call.headers == {"X-Trayagent-Dropped-Tools": "web_search_20250305"}
    assert call.notes == (
        "ignored Anthropic-only fields: context_management, mcp_servers",
        "ignored unknown fields: new_thing",
        "dropped Anthropic server tools: web_search_20250305",
    )
    assert [d["name"] for d in call.hub.request["tools"][0]["functionDeclarations"]] == ["Read"]


def test_claude_codes_system_message_is_system_text_and_its_extra_key_is_noted() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "text", "text": "env: linux"}], "output_config": {"effort": "low"}},
    ]
    call = parse(system="base", messages=messages)
    assert call.hub.request["systemInstruction"] == {"parts": [{"text": "base"}, {"text": "env: linux"}]}
    assert call.hub.request["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert call.notes == ("ignored message fields: output_config",)


def test_redacted_thinking_and_server_tool_blocks_are_dropped_with_a_note() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "found it"},
            ],
        },
    ]
    call = parse(messages=messages)
    assert call.hub.request["contents"][1] == {"role": "model", "parts": [{"text": "found it"}]}
    assert "redacted_thinking blocks were dropped" in call.notes
    assert any(note.startswith("server_tool_use blocks were dropped") for note in call.notes)


def test_a_tool_result_without_its_tool_use_is_kept_as_text() -> None:
    messages = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "gone", "content": "42"}]}]
    call = parse(messages=messages)
    assert call.hub.request["contents"][0]["parts"] == [{"text": "[result of tool call gone]\n42"}]
    assert "a tool_result without its tool_use was sent as text" in call.notes


def test_an_unsigned_thinking_block_goes_back_without_a_signature_and_an_empty_one_not_at_all() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "idea", "signature": ""},
                {"type": "thinking", "thinking": "", "signature": ""},
                {"type": "text", "text": "ok"},
            ],
        },
        {"role": "user", "content": "more"},
    ]
    parts = parse(messages=messages).hub.request["contents"][1]["parts"]
    assert parts == [{"text": "idea", "thought": True}, {"text": "ok"}]


# -- sessions -------------------------------------------------------------------------------------------------


def test_the_session_id_in_user_id_and_the_header_give_one_key() -> None:
    sid = "64d8efef-b2b6-43bf-863f-1680ed9b2345"
    from_metadata = MESSAGES.parse(
        body(metadata={"user_id": orjson.dumps({"device_id": "d", "session_id": sid}).decode()}), TARGET
    )
    from_header = MESSAGES.parse(body(), ClientTarget(headers={"x-claude-code-session-id": sid}))
    legacy = MESSAGES.parse(body(metadata={"user_id": f"user_ab_account_cd_session_{sid}"}), TARGET)
    other = MESSAGES.parse(body(), ClientTarget(headers={"x-claude-code-session-id": sid + "0"}))
    assert from_metadata.hub.session_key == from_header.hub.session_key == legacy.hub.session_key
    assert other.hub.session_key != from_header.hub.session_key


def test_without_a_session_id_the_first_user_message_is_the_key() -> None:
    one = parse(messages=[{"role": "user", "content": "plan a trip"}])
    two = parse(messages=[{"role": "user", "content": [{"type": "text", "text": "plan a trip"}]}])
    assert one.hub.session_key == two.hub.session_key is not None


# -- the stream's life cycle ----------------------------------------------------------------------------------


def test_keepalive_is_a_ping_event_until_the_stream_is_over() -> None:
    encoder = MESSAGES.encoder(parse(stream=True), CountingIds())
    assert encoder.keepalive() == b'event: ping\ndata: {"type":"ping"}\n\n'
    encoder.feed(reply({"text": "hi"}))
    assert encoder.finish().endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert encoder.keepalive() == encoder.finish() == encoder.feed(reply({"text": "x"})) == b""
    assert encoder.fail(StreamBroken("late")) == b""


def test_a_failure_before_any_chunk_is_one_error_event() -> None:
    encoder = MESSAGES.encoder(parse(stream=True), CountingIds())
    out = encoder.fail(StreamBroken("no answer"))
    assert out == b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"no answer"}}\n\n'
    assert encoder.finish() == b""


def test_every_block_that_starts_stops_before_message_delta() -> None:
    tool = {"name": "Read", "input_schema": {"type": "object"}}
    encoder = MESSAGES.encoder(parse(stream=True, tools=[tool]), CountingIds())
    chunks = [
        reply({"text": "a", "thought": True}, finish=None),
        reply({"text": "b"}, finish=None),
        reply({"functionCall": {"name": "Read", "args": {}}}, finish=None),
        reply({"text": "c"}),
    ]
    out = b"".join(encoder.feed(c) for c in chunks) + encoder.finish()
    events = [line[7:] for line in out.decode().splitlines() if line.startswith("event: ")]
    assert events.count("content_block_start") == events.count("content_block_stop") == 4
    assert events[-2:] == ["message_delta", "message_stop"] and events[0] == "message_start"


# -- count_tokens ---------------------------------------------------------------------------------------------


def test_count_tokens_uses_googles_count_else_an_estimate_never_zero() -> None:
    call = COUNT_TOKENS.parse({"model": "claude-opus-5-5", "messages": [{"role": "user", "content": "x"}]}, TARGET)
    assert call.operation == "count_tokens" and not call.stream
    assert "generationConfig" not in call.hub.request
    assert COUNT_TOKENS.render(call, {"totalTokens": 77}, CountingIds()) == {"input_tokens": 77}
    for answer in ({}, {"totalTokens": 0}, {"totalTokens": "9"}):
        assert COUNT_TOKENS.render(call, answer, CountingIds())["input_tokens"] >= 1


def test_the_estimate_grows_with_the_request() -> None:
    def estimate(text: str) -> int:
        call = COUNT_TOKENS.parse({"model": "m", "messages": [{"role": "user", "content": text}]}, TARGET)
        return int(COUNT_TOKENS.render(call, {}, CountingIds())["input_tokens"])

    assert estimate("word " * 4000) >= 4000 > estimate("word")


def test_count_tokens_never_streams() -> None:
    call = COUNT_TOKENS.parse({"model": "m", "messages": [{"role": "user", "content": "x"}]}, TARGET)
    with pytest.raises(InternalError):
        COUNT_TOKENS.encoder(call, CountingIds())


def test_a_call_from_another_front_end_is_refused_not_misread() -> None:
    stranger = ClientCall(hub=parse().hub, echo={"model": "x"})
    with pytest.raises(InternalError):
        MESSAGES.render(stranger, reply({"text": "x"}), CountingIds())


def test_a_non_object_message_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match=r"^messages\.0: expected an object$"):
        parse(messages=["hi"])


def test_a_tool_result_without_content_is_an_empty_output() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Touch", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": None}]},
    ]
    answer = parse(messages=messages).hub.request["contents"][2]["parts"][0]
    assert answer == {"functionResponse": {"name": "Touch", "id": "t1", "response": {"output": ""}}}


PLAIN_SHAPES = [
    [{"role": "user", "content": "hi"}],
    [{"role": "user", "content": ""}, {"role": "user", "content": "again"}],
    [{"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]}],
    [{"role": "user", "content": []}, {"role": "assistant", "content": [{"type": "text", "text": ""}]}],
    [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]},
        {"role": "assistant", "content": "z"},
        {"role": "user", "content": "more"},
    ],
]


@pytest.mark.parametrize("messages", PLAIN_SHAPES, ids=range(len(PLAIN_SHAPES)))
def test_plain_messages_read_the_same_on_the_fast_path_and_the_general_one(messages: list[Any]) -> None:
    # An extra (ignored) key sends a message down the general reader, which words every error.
    general = [{**message, "x_extra": 1} for message in messages]
    fast = parse(messages=messages).hub.request
    slow = parse(messages=general).hub.request
    assert fast["contents"] == slow["contents"]
    assert fast.get("systemInstruction") == slow.get("systemInstruction")
