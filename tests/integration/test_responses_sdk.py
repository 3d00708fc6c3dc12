"""The official `openai` SDK's Responses API (sync and async) against the in-process proxy and a fake Google that
checks thought signatures as strictly as the real one: create plain and streamed, the stream helper, function tools
over turns with `store: false` on Gemini and Claude models (the reasoning item's encrypted_content carries the
signatures, so even a restarted proxy sends them right), a conversation moved between families, Codex's requests
as captured, structured output parsed, and typed errors."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.responses import Response
from pydantic import BaseModel

from tests.fakes.generation import function_call, text, thought
from tests.inprocess import InProcessProxy
from tests.sdkproxy import (
    CLIENT_REQUESTS,
    FAILURE_MODEL,
    SDK_KEY,
    Upstream,
    fake_signature,
    fresh_proxy,
    model_parts,
    own_texts,
    response_parts,
)

pytestmark = pytest.mark.timeout(60)

WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city now.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}


def sdk(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key=SDK_KEY, max_retries=0, timeout=20)


@pytest.fixture(scope="module")
def client(sdk_proxy: InProcessProxy) -> Iterator[openai.OpenAI]:
    with sdk(sdk_proxy.base) as openai_client:
        yield openai_client


# -- plain and streamed -------------------------------------------------------------------------------------------


def test_create_answers_with_output_text_and_the_requested_model(client: openai.OpenAI, upstream: Upstream) -> None:
    usage = {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 14}
    upstream.google.reply([text("Hello ")], [text("there")], usage=usage)
    raw = client.responses.with_raw_response.create(model="gpt-4o", input="hi", instructions="Be brief.")
    assert raw.headers["x-mapped-model"] == "gemini-2.5-flash" and raw.headers["x-account"].endswith("@ex***")
    response = raw.parse()
    assert response.output_text == "Hello there" and response.model == "gpt-4o" and response.status == "completed"
    assert response.usage is not None and (response.usage.input_tokens, response.usage.output_tokens) == (10, 4)
    sent = upstream.last()
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


def test_create_with_stream_true_yields_numbered_events_in_order(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("one ")], [text("two")])
    events = list(client.responses.create(model="gpt-4o", input="count", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]  # fmt: skip
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]  # fmt: skip
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "one two"
    final = events[-1]
    assert final.type == "response.completed" and final.response.output_text == "one two"


def test_the_stream_helper_gives_deltas_and_the_final_response(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("Hel")], [text("lo")])
    with client.responses.stream(model="gpt-4o", input="greet") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert deltas == ["Hel", "lo"] and final.output_text == "Hello" and final.model == "gpt-4o"


def test_the_async_client_creates_and_streams(sdk_proxy: InProcessProxy, upstream: Upstream) -> None:
    upstream.google.reply([text("async one")])
    upstream.google.reply([text("async "), text("two")])

    async def run() -> tuple[Response, Response]:
        async with openai.AsyncOpenAI(base_url=sdk_proxy.base + "/v1", api_key=SDK_KEY, max_retries=0) as client:
            plain = await client.responses.create(model="gpt-4o", input="a")
            async with client.responses.stream(model="gpt-4o", input="b") as stream:
                streamed = await stream.get_final_response()
            return plain, streamed

    plain, streamed = asyncio.run(run())
    assert plain.output_text == "async one" and streamed.output_text == "async two"


# -- function tools over turns, stateless ---------------------------------------------------------------------------


def weather_first_turn(
    client: openai.OpenAI, google: Any, tag: str, *, streamed: bool, model: str = "gemini-3-pro-high"
) -> tuple[list[Any], str, str | None]:
    """Turn one with store=false: a signed thought, then a call (Gemini signs the call too, Claude only its
    thinking). The next turn's input and the signatures."""
    thought_sig = fake_signature(f"resp-thought-{tag}")
    call_sig = None if "claude" in model else fake_signature(f"resp-call-{tag}")
    google.reply(
        [thought("Need the weather.", thought_sig)],
        [function_call("get_weather", {"city": "Oslo"}, signature=call_sig)],
    )
    question: list[Any] = [{"role": "user", "content": f"Weather in Oslo? ({tag})"}]
    kwargs: dict[str, Any] = {
        "model": model,
        "input": question,
        "tools": [WEATHER_TOOL],
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "high", "summary": "auto"},
    }
    if streamed:
        with client.responses.stream(**kwargs) as stream:
            first = stream.get_final_response()
    else:
        first = client.responses.create(**kwargs)
    reasoning, call = first.output
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert reasoning.summary[0].text == "Need the weather."
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Oslo"}
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "-3 degrees, snow"}
    return [*question, *first.output, output], thought_sig, call_sig


def check_second_turn(upstream: Upstream, history: list[Any], thought_sig: str, call_sig: str | None) -> None:
    call_id = history[-1]["call_id"]
    sent = upstream.last()
    thought_part, call_part = model_parts(sent)
    assert thought_part == {"text": "Need the weather.", "thought": True, "thoughtSignature": thought_sig}
    signed = {"thoughtSignature": call_sig} if call_sig is not None else {}
    assert call_part == {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": call_id}, **signed}
    assert response_parts(sent) == [{"name": "get_weather", "id": call_id, "response": {"result": "-3 degrees, snow"}}]
    assert upstream.refusals() == []


@pytest.mark.parametrize(
    ("streamed", "model"),
    [(False, "gemini-3-pro-high"), (True, "gemini-3-pro-high"), (False, "claude-sonnet-4-6-thinking")],
    ids=["gemini-create", "gemini-stream", "claude-create"],
)
def test_a_stateless_tool_round_trip_replays_the_signatures_from_the_reasoning_item(
    client: openai.OpenAI, upstream: Upstream, streamed: bool, model: str
) -> None:
    history, thought_sig, call_sig = weather_first_turn(
        client, upstream.google, f"warm-{streamed}-{model}", streamed=streamed, model=model
    )
    upstream.google.reply([text("Cold: -3 degrees and snow.")])
    second = client.responses.create(model=model, input=history, tools=[WEATHER_TOOL], store=False)
    assert second.output_text == "Cold: -3 degrees and snow."
    check_second_turn(upstream, history, thought_sig, call_sig)
    assert len(upstream.generations()) == 2


@pytest.mark.parametrize("model", ["gemini-3-pro-high", "claude-sonnet-4-6-thinking"])
def test_after_a_restart_the_reasoning_item_still_carries_the_signatures(
    client: openai.OpenAI, upstream: Upstream, tmp_path: Path, model: str
) -> None:
    history, thought_sig, call_sig = weather_first_turn(
        client, upstream.google, f"restart-{model}", streamed=False, model=model
    )
    with fresh_proxy(tmp_path, upstream.google, SDK_KEY) as restarted, sdk(restarted.base) as other:
        upstream.google.reply([text("Snowing.")])
        second = other.responses.create(model=model, input=history, tools=[WEATHER_TOOL], store=False)
    assert second.output_text == "Snowing."
    check_second_turn(upstream, history, thought_sig, call_sig)  # no refusal, no repair: the blob was enough


def test_a_client_that_drops_the_reasoning_item_gets_the_call_signature_from_the_cache(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    history, _, call_sig = weather_first_turn(client, upstream.google, "no-blob", streamed=False)
    without_reasoning = [item for item in history if getattr(item, "type", None) != "reasoning"]
    assert len(without_reasoning) == len(history) - 1
    upstream.google.reply([text("Snow.")])
    assert client.responses.create(model="gemini-3-pro-high", input=without_reasoning).output_text == "Snow."
    (call_part,) = model_parts(upstream.last())
    assert call_part["thoughtSignature"] == call_sig and upstream.refusals() == []


def test_a_conversation_moved_from_gemini_to_claude_is_accepted(client: openai.OpenAI, upstream: Upstream) -> None:
    history, _, _ = weather_first_turn(client, upstream.google, "switch", streamed=False)
    upstream.google.reply([text("Snow, says Claude.")])
    second = client.responses.create(
        model="claude-sonnet-4-6-thinking", input=history, reasoning={"effort": "high"}, store=False
    )
    assert second.output_text == "Snow, says Claude."
    sent = upstream.last()
    # Gemini's signatures mean nothing to Claude: not replayed, and the tool turn goes with thinking off.
    assert not any("thoughtSignature" in part or part.get("thought") for part in model_parts(sent))
    assert "thinkingConfig" not in sent["generationConfig"] and upstream.refusals() == []


# -- Codex, as captured ---------------------------------------------------------------------------------------------


def codex_call(client: openai.OpenAI, body: dict[str, Any], headers: dict[str, str]) -> tuple[Response, Any]:
    """One streamed Codex request through the SDK: the final response and the raw HTTP response's headers."""
    kwargs = {key: value for key, value in body.items() if key != "client_metadata"}
    extra = {"client_metadata": body["client_metadata"]}
    with client.responses.with_streaming_response.create(**kwargs, extra_body=extra, extra_headers=headers) as raw:
        events = list(raw.parse())
        response_headers = raw.headers
    done = [event for event in events if event.type == "response.output_item.done"]
    assert done, "Codex prints nothing without output_item.done"
    final = events[-1]
    assert final.type == "response.completed" and final.response.id
    return final.response, response_headers


def captured(name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A captured Codex request (`first_request`, or the one with `model = "gemini-3-flash"`): body, headers."""
    recorded = json.loads((CLIENT_REQUESTS / "codex.json").read_text())
    request = recorded[name] if name == "first_request" else recorded[name]["request"]
    body = own_texts(copy.deepcopy(request["body"]))
    headers = {k: v for k, v in own_texts(request["headers"]).items() if k.startswith(("x-codex", "session-id"))}
    return body, headers


def test_codexs_own_request_calls_its_custom_tool_once_and_reads_the_result(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    body, headers = captured("first_request")  # tools in an additional_tools item: namespaces and a custom tool
    body["model"] = "gemini-3-flash"
    call_sig = fake_signature("codex-exec-1")
    upstream.google.reply(
        [thought("Run it.", signature=None)],
        [function_call("functions__exec", {"input": "print('hi')"}, signature=call_sig)],
        [function_call("clock__sleep", {"duration_ms": 5})],  # parallel_tool_calls is false: never shown
    )
    response, _ = codex_call(client, body, headers)
    sent = upstream.last()
    declared = {d["name"]: d for d in sent["tools"][0]["functionDeclarations"]}
    assert {"functions__exec", "functions__wait", "clock__sleep"} <= set(declared)
    assert declared["functions__exec"]["parameters"]["required"] == ["input"]  # the custom tool takes free text
    assert "encrypted" not in json.dumps(declared)
    calls = [item for item in response.output if item.type in ("custom_tool_call", "function_call")]
    assert [(item.type, item.name, item.namespace) for item in calls] == [  # type: ignore[union-attr]
        ("custom_tool_call", "exec", "functions")
    ]
    (exec_call,) = calls
    assert exec_call.type == "custom_tool_call" and exec_call.input == "print('hi')"

    result = {"type": "custom_tool_call_output", "call_id": exec_call.call_id, "output": "hi"}
    body["input"] = [*body["input"], *[item.to_dict() for item in response.output], result]
    upstream.google.reply([text("It printed hi.")])
    answer, _ = codex_call(client, body, headers)
    assert answer.output_text == "It printed hi."
    sent = upstream.last()
    (call_part,) = [part for part in model_parts(sent) if "functionCall" in part]
    assert call_part["functionCall"] == {"name": "functions__exec", "args": {"input": "print('hi')"},
                                         "id": exec_call.call_id}  # fmt: skip
    assert call_part["thoughtSignature"] == call_sig
    assert response_parts(sent) == [{"name": "functions__exec", "id": exec_call.call_id, "response": {"result": "hi"}}]
    assert upstream.refusals() == []


def test_codex_on_gemini_3_flash_gets_namespaced_calls_mapped_back_and_hosted_tools_reported(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    body, headers = captured("same_prompt_with_model_gemini_3_flash")  # top-level tools, a namespace, web_search
    call_sig = fake_signature("codex-cat-1")
    upstream.google.reply(
        [function_call("exec_command", {"cmd": "cat notes.txt"}, signature=call_sig)],
        [function_call("multi_agent_v1__close_agent", {"target": "agent-1"})],
    )
    response, response_headers = codex_call(client, body, headers)
    assert response_headers["x-trayagent-dropped-tools"] == "web_search"
    calls = [item for item in response.output if item.type == "function_call"]
    assert [(call.name, call.namespace) for call in calls] == [  # type: ignore[union-attr]
        ("exec_command", None),
        ("close_agent", "multi_agent_v1"),
    ]
    # Codex's tool round trip as captured: the call items echoed (with their ids), then each output.
    outputs = [
        {"type": "function_call_output", "call_id": call.call_id, "output": answer}  # type: ignore[union-attr]
        for call, answer in zip(calls, ["notes: water the plants", "closed"], strict=True)
    ]
    body["input"] = [*body["input"], *[item.to_dict() for item in response.output], *outputs]
    upstream.google.reply([text("Water the plants.")])
    answer, _ = codex_call(client, body, headers)
    assert answer.output_text == "Water the plants."
    sent = upstream.last()
    call_parts = [part for part in model_parts(sent) if "functionCall" in part]
    assert [part["functionCall"]["name"] for part in call_parts] == ["exec_command", "multi_agent_v1__close_agent"]
    assert call_parts[0]["thoughtSignature"] == call_sig and "thoughtSignature" not in call_parts[1]
    assert [(r["name"], r["response"]["result"]) for r in response_parts(sent)] == [
        ("exec_command", "notes: water the plants"),
        ("multi_agent_v1__close_agent", "closed"),
    ]
    assert upstream.refusals() == []
    assert len(set(upstream.emails())) == 1  # prompt_cache_key: one session, one account


def test_codexs_default_model_is_routed_somewhere_google_serves(client: openai.OpenAI, upstream: Upstream) -> None:
    body, headers = captured("first_request")
    upstream.google.reply([text("hi")])
    response, response_headers = codex_call(client, body, headers)
    assert response.output_text == "hi" and response.model == body["model"]
    assert response_headers["x-mapped-model"] != body["model"]


# -- structured output ---------------------------------------------------------------------------------------------


class Weather(BaseModel):
    city: str
    degrees: int


def test_parse_with_a_pydantic_model_sends_the_schema_and_parses_the_reply(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    upstream.google.reply([text('{"city": "Oslo", ')], [text('"degrees": -3}')])
    parsed = client.responses.parse(model="gpt-4o", input="Weather in Oslo as JSON", text_format=Weather)
    assert parsed.output_parsed == Weather(city="Oslo", degrees=-3)
    config = upstream.last()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"city", "degrees"}
    assert "additionalProperties" not in json.dumps(config["responseSchema"])


# -- errors -------------------------------------------------------------------------------------------------------


def test_an_unsupported_field_is_a_bad_request_error_naming_it(client: openai.OpenAI, upstream: Upstream) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="gpt-4o", input="hi", conversation="conv_1")
    assert raised.value.status_code == 400 and "conversation: conversations are not stored here" in raised.value.message
    assert upstream.generations() == []


def test_a_wrong_key_is_an_authentication_error(sdk_proxy: InProcessProxy) -> None:
    with openai.OpenAI(base_url=sdk_proxy.base + "/v1", api_key="sk-wrong-00000000", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as raised:
            wrong.responses.create(model="gpt-4o", input="hi")
    assert raised.value.status_code == 401


def test_a_stream_google_breaks_part_way_ends_failed_with_the_reason(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("one ")], [text("two ")], [text("three")])
    upstream.google.fail("streamGenerateContent", 200, cut_after=1)
    with client.responses.stream(model=FAILURE_MODEL, input="count") as stream:
        events = list(stream)
    kinds = [event.type for event in events]
    assert "response.output_text.delta" in kinds and kinds[-2:] == ["error", "response.failed"]
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.error is not None
    assert "broke off part-way" in failed.response.error.message
