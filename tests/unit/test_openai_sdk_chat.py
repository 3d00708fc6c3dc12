"""The openai SDK reads what the chat and completions front ends write: every golden reply validates as the
SDK's model, every golden stream goes through the SDK's Stream and its accumulator, and the SDK's client
(create, parse, stream, async) works end to end over an in-process transport (tests/openai_relay.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import orjson
import pydantic
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types import Completion
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.golden import Case, cases
from tests.openai_relay import Relay, assert_sdk_shape, assert_sdk_stream, async_sdk_client, sdk_client, sdk_stream
from trayagent.errors import StreamBroken
from trayagent.proxy.signatures import SignatureCache, call_key
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS

ROUTES = {"gpt-4o": "gemini-2.5-flash", "gemini-3-flash": "gemini-3-flash"}
USAGE = {"promptTokenCount": 10, "candidatesTokenCount": 4, "thoughtsTokenCount": 6, "cachedContentTokenCount": 3}


def text_chunk(text: str, finish: str | None = None, index: int = 0, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": index}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **extra}


def parts_chunk(*parts: dict[str, Any], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **extra}


# -- golden outputs through the SDK's models and stream parser ---------------------------------------------


def _with(name: str, frontend: str) -> list[Case]:
    return [case for case in cases(frontend) if case.has(name)]


@pytest.mark.parametrize("case", _with("reply.json", "openai_chat"), ids=lambda case: case.name)
def test_golden_chat_replies_are_chat_completions(case: Case) -> None:
    reply = case.read("reply.json")
    assert_sdk_shape(reply)
    for choice in ChatCompletion.model_validate(reply).choices:
        assert choice.finish_reason in ("stop", "length", "tool_calls", "content_filter", "function_call")


@pytest.mark.parametrize("case", _with("reply.json", "openai_completions"), ids=lambda case: case.name)
def test_golden_completion_replies_are_completions(case: Case) -> None:
    assert_sdk_shape(case.read("reply.json"))


def _accumulate(wire: bytes) -> tuple[list[ChatCompletionChunk], ChatCompletionStreamState[None]]:
    state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    chunks = []
    for chunk in sdk_stream(wire, ChatCompletionChunk):
        chunks.append(chunk)
        state.handle_chunk(chunk)
    return chunks, state


@pytest.mark.parametrize(
    "case", _with("stream.txt", "openai_chat") + _with("failed.txt", "openai_chat"), ids=lambda case: case.name
)
def test_golden_chat_streams_parse_with_the_sdk(case: Case) -> None:
    for name in ("stream.txt", "failed.txt"):
        if not case.has(name):
            continue
        wire = (case.folder / name).read_bytes()
        assert_sdk_stream(wire)  # every event has the SDK's shape; the stream ends with its terminal event
        error = orjson.loads(wire.split(b"data: ")[-2]).get("error") if b'data: {"error"' in wire else None
        if error is not None:
            with pytest.raises(openai.APIError) as raised:
                _accumulate(wire)
            assert raised.value.message == error["message"]
            continue
        chunks, state = _accumulate(wire)
        snapshot = state.current_completion_snapshot
        assert chunks[0].choices and all(choice.delta.role == "assistant" for choice in chunks[0].choices)
        reasons = {choice.finish_reason for choice in snapshot.choices}
        assert None not in reasons
        if reasons & {"length", "content_filter"}:
            # The SDK's parse helpers refuse an incomplete answer with their own typed errors.
            with pytest.raises((openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)):
                state.get_final_completion()
        else:
            state.get_final_completion()
        if case.read("client.json").get("stream_options", {}).get("include_usage"):
            assert chunks[-1].choices == [] and chunks[-1].usage is not None
            assert all(chunk.usage is None for chunk in chunks[:-1])


def test_the_accumulated_stream_equals_the_rendered_reply() -> None:
    """Streamed and not, the same Google answer gives the same message (tool calls, reasoning, usage)."""
    chunks = [
        parts_chunk({"text": "Let me look.", "thought": True}, finish=None),
        parts_chunk(
            {"text": "Checking."}, {"functionCall": {"name": "weather", "args": {"city": "Oslo"}}}, finish=None
        ),
        parts_chunk({"functionCall": {"name": "weather", "args": {"city": "Rome"}, "id": "g-2"}}, usageMetadata=USAGE),
    ]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Weather?"}], "tools": [_weather_tool()]}
    relay = Relay(CHAT, chunks, chunks, routes=ROUTES)
    client = sdk_client(relay)
    plain = client.chat.completions.create(**body)
    streamed_state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    for chunk in client.chat.completions.create(**body, stream=True, stream_options={"include_usage": True}):
        streamed_state.handle_chunk(chunk)
    streamed = streamed_state.get_final_completion()

    def calls(message: Any) -> list[tuple[str, str, str]]:
        return [(call.id, call.function.name, call.function.arguments) for call in message.tool_calls or ()]

    assert calls(streamed.choices[0].message) == calls(plain.choices[0].message)
    assert calls(plain.choices[0].message) == [
        ("call_0002", "weather", '{"city":"Oslo"}'),
        ("g-2", "weather", '{"city":"Rome"}'),
    ]
    assert streamed.choices[0].message.content == plain.choices[0].message.content == "Checking."
    assert streamed.choices[0].finish_reason == plain.choices[0].finish_reason == "tool_calls"
    assert streamed.usage == plain.usage
    assert plain.usage is not None and plain.usage.completion_tokens == 10
    assert plain.usage.completion_tokens_details and plain.usage.completion_tokens_details.reasoning_tokens == 6
    assert plain.usage.prompt_tokens_details and plain.usage.prompt_tokens_details.cached_tokens == 3
    assert (plain.choices[0].message.model_extra or {})["reasoning_content"] == "Let me look."


def _weather_tool(strict: bool = False) -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    if strict:
        parameters["additionalProperties"] = False
    return {"type": "function", "function": {"name": "weather", "parameters": parameters, "strict": strict}}


# -- the SDK's client ------------------------------------------------------------------------------------------


class Person(pydantic.BaseModel):
    name: str
    age: int
    nickname: str | None


def test_parse_with_a_pydantic_model() -> None:
    relay = Relay(CHAT, [text_chunk('{"name": "Ann", '), text_chunk('"age": 31, "nickname": null}', "STOP")])
    completion = sdk_client(relay).chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": "Ann is 31."}], response_format=Person
    )
    assert completion.choices[0].message.parsed == Person(name="Ann", age=31, nickname=None)
    config = relay.calls[0].hub.request["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"name", "age", "nickname"}
    assert config["responseSchema"]["properties"]["nickname"].get("nullable") is True


def test_the_stream_helper_with_a_pydantic_model() -> None:
    relay = Relay(CHAT, [text_chunk('{"name": "Bo", "age"'), text_chunk(': 4, "nickname": "B"}', "STOP")])
    with sdk_client(relay).beta.chat.completions.stream(  # the spelling; the same helper as chat.…
        model="gpt-4o", messages=[{"role": "user", "content": "Bo is 4."}], response_format=Person
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert deltas == ["", '{"name": "Bo", "age"', ': 4, "nickname": "B"}']  # "": the role chunk, as OpenAI's
    assert final.choices[0].message.parsed == Person(name="Bo", age=4, nickname="B")


def test_strict_tools_are_parsed_by_the_sdk() -> None:
    class Weather(pydantic.BaseModel):
        city: str

    call = {"functionCall": {"name": "Weather", "args": {"city": "Oslo"}}}
    relay = Relay(CHAT, [parts_chunk(call)], [parts_chunk(call)])
    client = sdk_client(relay)
    tools = [openai.pydantic_function_tool(Weather)]
    messages: Any = [{"role": "user", "content": "Weather in Oslo?"}]
    parsed = client.chat.completions.parse(model="gpt-4o", messages=messages, tools=tools)
    tool_call = (parsed.choices[0].message.tool_calls or [])[0]
    assert tool_call.function.parsed_arguments == Weather(city="Oslo")
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=tools) as stream:
        done = [event for event in stream if event.type == "tool_calls.function.arguments.done"]
    assert [event.parsed_arguments for event in done] == [Weather(city="Oslo")]


def test_a_tool_round_trip_keeps_the_call_id_the_signature_is_found_by() -> None:
    """Google's signature on a call comes back to it on the next turn: by the call id when Google gave one,
    by name and arguments when we made the id up (the dispatcher's two lookups)."""
    first = [
        parts_chunk({"text": "Which city?", "thought": True}, finish=None),
        parts_chunk(
            {
                "functionCall": {"name": "weather", "args": {"city": "Oslo"}, "id": "g-1"},
                "thoughtSignature": "c2lnLTE=",
            },
            {"functionCall": {"name": "weather", "args": {"city": "Rome"}}, "thoughtSignature": "c2lnLTI="},
        ),
    ]
    cache = SignatureCache()
    for chunk in first:
        cache.observe(chunk, None)
    relay = Relay(CHAT, first, [text_chunk("Both sunny.", "STOP")], routes=ROUTES)
    client = sdk_client(relay)
    messages: list[Any] = [{"role": "user", "content": "Weather in Oslo and Rome?"}]
    reply = client.chat.completions.create(model="gemini-3-flash", messages=messages, tools=[_weather_tool()])
    message = reply.choices[0].message
    assert [call.id for call in message.tool_calls or ()] == ["g-1", "call_0002"]
    messages.append(message)  # the SDK's own object, echoed as clients do
    messages += [{"role": "tool", "tool_call_id": call.id, "content": "sunny"} for call in message.tool_calls or ()]
    again = client.chat.completions.create(model="gemini-3-flash", messages=messages, tools=[_weather_tool()])
    assert again.choices[0].message.content == "Both sunny."
    contents = relay.calls[1].hub.request["contents"]
    model_turn, results = contents[1], contents[2]
    assert model_turn["parts"][0] == {"text": "Which city?", "thought": True}  # reasoning_content came back
    calls = [part["functionCall"] for part in model_turn["parts"] if "functionCall" in part]
    assert cache.recall(call_key(calls[0])) == "c2lnLTE="  # by Google's id
    by_name = {key: value for key, value in calls[1].items() if key != "id"}
    assert cache.recall(call_key(by_name)) == "c2lnLTI="  # by name + arguments: they round-trip exactly
    assert [part["functionResponse"] for part in results["parts"]] == [
        {"name": "weather", "id": "g-1", "response": {"result": "sunny"}},
        {"name": "weather", "id": "call_0002", "response": {"result": "sunny"}},
    ]


def test_n_choices_streamed_and_not() -> None:
    chunks = [
        {"candidates": [text_chunk("Red", index=0)["candidates"][0], text_chunk("Blue", index=1)["candidates"][0]]},
        {
            "candidates": [text_chunk(".", "STOP", 0)["candidates"][0], text_chunk("!", "STOP", 1)["candidates"][0]],
            "usageMetadata": USAGE,
        },
    ]
    client = sdk_client(Relay(CHAT, chunks))
    state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    for chunk in client.chat.completions.create(
        model="gpt-4o", n=2, stream=True, messages=[{"role": "user", "content": "A color?"}]
    ):
        state.handle_chunk(chunk)
    final = state.get_final_completion()
    assert [(choice.index, choice.message.content) for choice in final.choices] == [(0, "Red."), (1, "Blue!")]


def test_n_choices_render_every_candidate_of_a_merged_reply() -> None:
    from trayagent.translate.hub import ClientTarget, CountingIds

    call = CHAT.parse(
        {"model": "gpt-4o", "n": 2, "messages": [{"role": "user", "content": "A color?"}]}, ClientTarget()
    )
    merged = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Blue!"}]}, "index": 1, "finishReason": "MAX_TOKENS"},
            {"content": {"role": "model", "parts": [{"text": "Red."}]}, "index": 0, "finishReason": "STOP"},
        ],
        "usageMetadata": USAGE,
    }
    reply = ChatCompletion.model_validate(CHAT.render(call, merged, CountingIds()))
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (0, "Red.", "stop"),
        (1, "Blue!", "length"),
    ]


def test_an_error_mid_stream_raises_the_sdks_api_error_with_our_message() -> None:
    relay = Relay(CHAT, [text_chunk("Once")], error=StreamBroken("Google's stream broke off"))
    stream = sdk_client(relay).chat.completions.create(
        model="gpt-4o", stream=True, messages=[{"role": "user", "content": "A story."}]
    )
    seen = []
    with pytest.raises(openai.APIError, match="Google's stream broke off"):
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "Once"]


def test_an_unusable_reply_is_an_error_the_sdk_raises_not_an_empty_success() -> None:
    malformed = [{"candidates": [{"index": 0, "finishReason": "MALFORMED_FUNCTION_CALL"}]}]
    client = sdk_client(Relay(CHAT, malformed, malformed))
    messages: Any = [{"role": "user", "content": "Weather?"}]
    with pytest.raises(openai.InternalServerError, match="MALFORMED_FUNCTION_CALL") as raised:
        client.chat.completions.create(model="gpt-4o", messages=messages)
    assert raised.value.status_code == 502
    with pytest.raises(openai.APIError, match="MALFORMED_FUNCTION_CALL"):
        list(client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))


def test_a_field_google_cannot_honour_is_a_400_naming_it() -> None:
    client = sdk_client(Relay(CHAT))
    with pytest.raises(openai.BadRequestError, match="^Error code: 400 .*logprobs") as raised:
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], logprobs=True, top_logprobs=2
        )
    assert raised.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match="frobnicate"):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], extra_body={"frobnicate": 1}
        )


def test_the_deprecated_functions_api_answers_with_function_call() -> None:
    call = {"functionCall": {"name": "lookup", "args": {"word": "fig"}}}
    client = sdk_client(Relay(CHAT, [parts_chunk(call)]))
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Define fig."}],
        functions=[{"name": "lookup", "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}],
    )
    assert reply.choices[0].finish_reason == "function_call"
    assert reply.choices[0].message.function_call is not None
    assert reply.choices[0].message.function_call.arguments == '{"word":"fig"}'


def test_the_async_client_streams_too() -> None:
    async def run() -> list[str | None]:
        client = async_sdk_client(Relay(CHAT, [text_chunk("Hel"), text_chunk("lo", "STOP")]))
        stream = await client.chat.completions.create(
            model="gpt-4o", stream=True, messages=[{"role": "user", "content": "Hi"}]
        )
        return [
            f"{chunk.choices[0].delta.role}:{chunk.choices[0].delta.content}" async for chunk in stream if chunk.choices
        ]

    assert asyncio.run(run()) == ["assistant:", "None:Hel", "None:lo", "None:None"]


# -- legacy completions -------------------------------------------------------------------------------------


def test_completions_streamed_and_not() -> None:
    chunks = [text_chunk(" there was"), text_chunk(" a fox.", "STOP", usageMetadata=USAGE)]
    client = sdk_client(Relay(COMPLETIONS, chunks, chunks), strict=False)
    plain = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time", echo=True)
    assert plain.choices[0].text == "Once upon a time there was a fox."
    assert plain.usage is not None and plain.usage.total_tokens == 20
    pieces = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Once", stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(choice.text for piece in pieces for choice in piece.choices) == " there was a fox."
    assert pieces[-2].choices[0].finish_reason == "stop"
    assert pieces[-1].choices == [] and pieces[-1].usage is not None


@pytest.mark.parametrize("case", _with("stream.txt", "openai_completions"), ids=lambda case: case.name)
def test_golden_completion_streams_parse_with_the_sdk(case: Case) -> None:
    wire = (case.folder / "stream.txt").read_bytes()
    assert_sdk_stream(wire)
    if b'data: {"error"' in wire:
        with pytest.raises(openai.APIError):
            list(sdk_stream(wire, Completion, strict=False))
        return
    pieces = list(sdk_stream(wire, Completion, strict=False))
    assert all(piece.object == "text_completion" for piece in pieces)
    finals = [choice for piece in pieces for choice in piece.choices if choice.finish_reason]
    assert sorted(choice.index for choice in finals) == list(range(case.read("client.json").get("n", 1)))
