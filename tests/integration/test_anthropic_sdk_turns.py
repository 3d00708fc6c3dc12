"""The official `anthropic` SDK over several turns, against the in-process proxy and a fake Google that checks
thought signatures as strictly as the real one: tool round trips whose next turn carries the right signature on the
right part, after a restart emptied the signature cache too, a conversation moved between model families, and
Claude Code's own requests as captured."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import anthropic
import pytest
from anthropic.lib.streaming import MessageStream
from anthropic.types import Message, RawMessageStreamEvent

from tests.fakes.generation import function_call, text, thought
from tests.fakes.thoughts import SKIP_SIGNATURE
from tests.sdkproxy import (
    CLIENT_REQUESTS,
    SDK_KEY,
    Upstream,
    anthropic_sdk,
    fake_signature,
    final_message,
    fresh_proxy,
    model_parts,
    own_texts,
    response_parts,
    user_turn,
)

pytestmark = pytest.mark.timeout(60)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city now.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
READ_TOOL = {
    "name": "read_file",
    "description": "A file's text.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
}


# -- tools and signatures over turns ------------------------------------------------------------------------------


def weather_first_turn(
    client: anthropic.Anthropic, google: Any, tag: str, *, streamed: bool, call_id: str | None
) -> tuple[list[Any], Message, str, str]:
    """Turn one on a Gemini model: a signed thought, then a signed call. The history for turn two, the message,
    and the two signatures."""
    thought_sig, call_sig = fake_signature(f"gemini-thought-{tag}"), fake_signature(f"gemini-call-{tag}")
    google.reply(
        [thought("I should look it up.", signature=None)],
        [thought(" Paris it is.", thought_sig)],
        [function_call("get_weather", {"city": "Paris"}, signature=call_sig, call_id=call_id)],
    )
    kwargs: dict[str, Any] = {
        "model": "gemini-3-pro-high",
        "max_tokens": 4000,
        "messages": user_turn(f"Weather in Paris? ({tag})"),
        "tools": [WEATHER_TOOL],
        "thinking": {"type": "adaptive"},
    }
    first = final_message(client, streamed=streamed, **kwargs)
    assert first.stop_reason == "tool_use"
    thinking, tool_use = first.content
    assert thinking.type == "thinking" and thinking.signature == thought_sig
    assert tool_use.type == "tool_use" and tool_use.name == "get_weather" and tool_use.input == {"city": "Paris"}
    if call_id is not None:
        assert tool_use.id == call_id
    result = {"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 degrees, sunny"}
    history = [
        *kwargs["messages"],
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    return history, first, thought_sig, call_sig


def next_turn(client: anthropic.Anthropic, model: str, history: list[Any], thinking: Any) -> Message:
    return client.messages.create(
        model=model, max_tokens=4000, messages=history, tools=[WEATHER_TOOL, READ_TOOL], thinking=thinking
    )


@pytest.mark.parametrize(
    ("streamed", "call_id"), [(False, None), (True, "call-from-google-1")], ids=["create-no-id", "stream-google-id"]
)
def test_a_gemini_tool_round_trip_carries_each_signature_back_on_its_part(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, streamed: bool, call_id: str | None
) -> None:
    history, first, thought_sig, call_sig = weather_first_turn(
        anthropic_client, upstream.google, f"rt-{streamed}", streamed=streamed, call_id=call_id
    )
    upstream.google.reply([text("It is 18 degrees and sunny in Paris.")])
    second = next_turn(anthropic_client, "gemini-3-pro-high", history, {"type": "adaptive"})
    assert second.content[0].type == "text" and "18 degrees" in second.content[0].text
    tool_use = first.content[1]
    assert tool_use.type == "tool_use"
    sent = upstream.last()
    thought_part, call_part = model_parts(sent)
    assert thought_part == {
        "text": "I should look it up. Paris it is.",
        "thought": True,
        "thoughtSignature": thought_sig,
    }
    assert call_part == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": tool_use.id},
        "thoughtSignature": call_sig,
    }
    assert response_parts(sent) == [
        {"name": "get_weather", "id": tool_use.id, "response": {"output": "18 degrees, sunny"}}
    ]
    assert upstream.refusals() == [] and len(upstream.generations()) == 2


def claude_first_turn(client: anthropic.Anthropic, google: Any, tag: str) -> tuple[list[Any], str]:
    signature = fake_signature(f"claude-thought-{tag}")
    google.reply([thought("Read the notes first.", signature)], [function_call("read_file", {"path": "notes.txt"})])
    question = user_turn(f"What do my notes say? ({tag})")
    first = client.messages.create(
        model="claude-sonnet-4-6-thinking",
        max_tokens=8000,
        messages=question,
        tools=[WEATHER_TOOL, READ_TOOL],
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    thinking, tool_use = first.content
    assert thinking.type == "thinking" and thinking.signature == signature and tool_use.type == "tool_use"
    result = {"type": "tool_result", "tool_use_id": tool_use.id, "content": "buy milk"}
    return [
        *question,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ], signature


def test_a_claude_tool_round_trip_replays_the_signed_thinking_first(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    history, signature = claude_first_turn(anthropic_client, upstream.google, "warm")
    upstream.google.reply([text("They say: buy milk.")])
    second = next_turn(
        anthropic_client, "claude-sonnet-4-6-thinking", history, {"type": "enabled", "budget_tokens": 2048}
    )
    assert second.content[0].type == "text" and second.content[0].text == "They say: buy milk."
    sent = upstream.last()
    parts = model_parts(sent)
    assert parts[0] == {"text": "Read the notes first.", "thought": True, "thoughtSignature": signature}
    assert parts[1]["functionCall"]["name"] == "read_file" and "thoughtSignature" not in parts[1]
    assert sent["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 2048
    assert upstream.refusals() == []


def test_after_a_restart_a_gemini_tool_turn_recovers_through_one_signature_repair(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, tmp_path: Path
) -> None:
    history, first, _, _ = weather_first_turn(
        anthropic_client, upstream.google, "restart", streamed=False, call_id=None
    )
    with fresh_proxy(tmp_path, upstream.google, SDK_KEY) as restarted:  # its signature cache is empty
        upstream.google.reply([text("Sunny, 18 degrees.")])
        with anthropic_sdk(restarted.base) as sdk:
            second = next_turn(sdk, "gemini-3-pro-high", history, {"type": "adaptive"})
    assert second.content[0].type == "text" and second.content[0].text == "Sunny, 18 degrees."
    refused = [refusal.message for refusal in upstream.refusals()]
    assert len(refused) == 1 and refused[0].startswith("Function call is missing a thought_signature"), refused
    call_part = model_parts(upstream.last())[1]
    assert call_part["functionCall"]["id"] == first.content[1].id  # type: ignore[union-attr]
    assert call_part["thoughtSignature"] == SKIP_SIGNATURE  # what Gemini takes for a signature nobody has now


def test_after_a_restart_a_claude_tool_turn_is_accepted_without_a_refusal(
    anthropic_client: anthropic.Anthropic, upstream: Upstream, tmp_path: Path
) -> None:
    history, _ = claude_first_turn(anthropic_client, upstream.google, "restart")
    with fresh_proxy(tmp_path, upstream.google, SDK_KEY) as restarted:
        upstream.google.reply([text("They say: buy milk.")])
        with anthropic_sdk(restarted.base) as sdk:
            second = next_turn(sdk, "claude-sonnet-4-6-thinking", history, {"type": "enabled", "budget_tokens": 2048})
    assert second.content[0].type == "text" and second.content[0].text == "They say: buy milk."
    assert upstream.refusals() == []
    sent = upstream.last()
    # The signature cannot be vouched for any more, so it is not sent; without the thinking that opened the tool
    # turn, Claude takes the turn only with thinking off for this request.
    assert not any(part.get("thought") for part in model_parts(sent))
    assert "thinkingConfig" not in sent.get("generationConfig", {})


def test_a_conversation_moved_from_gemini_to_claude_drops_the_foreign_signatures(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    history, _, _, _ = weather_first_turn(anthropic_client, upstream.google, "switch", streamed=False, call_id=None)
    upstream.google.reply([text("18 degrees.")])
    second = next_turn(
        anthropic_client, "claude-sonnet-4-6-thinking", history, {"type": "enabled", "budget_tokens": 2048}
    )
    assert second.content[0].type == "text" and second.content[0].text == "18 degrees."
    assert upstream.refusals() == []
    assert not any("thoughtSignature" in part or part.get("thought") for part in model_parts(upstream.last()))


# -- Claude Code, as captured -------------------------------------------------------------------------------------


def claude_code_call(sdk: anthropic.Anthropic, body: dict[str, Any], headers: dict[str, str]) -> Message:
    stream = sdk.post(
        "/v1/messages?beta=true",
        cast_to=RawMessageStreamEvent,  # type: ignore[arg-type]
        body=body,
        options={"headers": headers},
        stream=True,
        stream_cls=anthropic.Stream[RawMessageStreamEvent],
    )
    with MessageStream(stream, output_format=anthropic.NOT_GIVEN) as messages:
        assert messages.response.headers["x-mapped-model"] == "claude-opus-4-6-thinking"
        return Message.model_validate(messages.get_final_message().to_dict())


def test_a_claude_code_request_as_captured_streams_and_its_tool_turn_is_accepted(
    anthropic_client: anthropic.Anthropic, upstream: Upstream
) -> None:
    captured = json.loads((CLIENT_REQUESTS / "claude.json").read_text())
    first = captured["first_request"]
    session = first["headers"]["X-Claude-Code-Session-Id"]
    body = own_texts(copy.deepcopy(first["body"]))
    body["metadata"]["user_id"] = json.dumps({"device_id": "d", "account_uuid": "", "session_id": session})
    headers = {
        key: value
        for key, value in own_texts(first["headers"]).items()
        if key.lower().startswith(("anthropic-", "x-claude-code", "x-app", "user-agent"))
    }
    headers["anthropic-beta"] = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27"
    signature = fake_signature("claude-code-thinking-1")
    upstream.google.reply([thought("", signature)], [text("hi!")])
    message = claude_code_call(anthropic_client, body, headers)
    assert message.model == "claude-opus-5-5" and message.stop_reason == "end_turn"
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].signature == signature  # type: ignore[union-attr]
    sent = upstream.last()
    assert sent["generationConfig"]["maxOutputTokens"] == 64000  # 128000 asked, clamped to Claude's limit
    assert "cache_control" not in json.dumps(sent)
    # The system blocks, then the `role: "system"` message Claude Code puts after the first user message.
    system_texts = [block["text"] for block in body["system"]] + [body["messages"][1]["content"][0]["text"]]
    assert [part["text"] for part in sent["systemInstruction"]["parts"]] == system_texts

    # The next request ends with the captured tool round trip: a Read call and its result.
    tail = own_texts(copy.deepcopy(captured["tool_round_trip"]["messages_tail"]))
    body["messages"] = [*body["messages"], *tail]
    upstream.google.reply([text("The file holds the secret.")])
    answer = claude_code_call(anthropic_client, body, headers)
    assert answer.content[-1].type == "text" and answer.content[-1].text == "The file holds the secret."
    tool_use, tool_result = tail[0]["content"][0], tail[1]["content"][0]
    sent = upstream.last()
    assert response_parts(sent) == [
        {"name": "Read", "id": tool_use["id"], "response": {"output": tool_result["content"]}}
    ]
    assert upstream.refusals() == []
    assert len(set(upstream.emails())) == 1  # one session, one account
