"""The official openai SDK against the in-process proxy and the fake Google with one account:
chat completions and legacy completions, plain and streamed, sync and async; what reaches Cloud Code (tool
calls carrying their ids and the thought signatures Google gave them, structured output as responseSchema);
the response headers; errors as the SDK's typed exceptions with our message.

One server serves the whole module; the test that cuts a stream part-way has a model of its own, so the
cool-down it causes touches no other test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pydantic
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.fakes.generation import function_call, text, thought
from tests.fakes.google import DEFAULT_MODELS, FakeGoogle
from tests.inprocess import InProcessProxy

pytestmark = pytest.mark.timeout(60)

KEY = "sk-openai-chat-0123456789"
ALICE = "alice@example.com"
MASKED = "al***@ex***"
CALL_SIG = "Y2FsbC1zaWduYXR1cmUtMQ=="
SECOND_SIG = "c2Vjb25kLWNhbGwtc2ln"
# Completion tokens are candidates + thoughts (8 + 4), as OpenAI's include reasoning; 30 in all.
USAGE = {"promptTokenCount": 18, "candidatesTokenCount": 8, "thoughtsTokenCount": 4, "cachedContentTokenCount": 6}
CUT_MODEL = "gemini-3-flash"  # the stream cut part-way leaves the account cooling down for this one
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@dataclass
class Proxy:
    google: FakeGoogle
    server: InProcessProxy

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.server.base}/v1", api_key=KEY, max_retries=0, timeout=10)

    def async_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.server.base}/v1", api_key=KEY, max_retries=0, timeout=10)

    def request(self, index: int = -1) -> dict[str, Any]:
        """The Gemini request inside an envelope trayagent sent to streamGenerateContent."""
        body: dict[str, Any] = self.google.calls_to("streamGenerateContent")[index].body
        return dict(body["request"])


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    google = FakeGoogle().start()
    server = InProcessProxy(tmp_path_factory.mktemp("openai-chat"), google, key=KEY).start()
    try:
        models = {**DEFAULT_MODELS, CUT_MODEL: {"displayName": CUT_MODEL, "remainingFraction": 1.0}}
        server.add_account(ALICE, project="proj-alice", models=models)
        yield Proxy(google, server)
    finally:
        server.stop()
        google.stop()


@pytest.fixture(autouse=True)
def fresh_script(proxy: Proxy) -> None:
    proxy.google.clear_scripts()  # replies and failures an earlier test scripted and did not use


def test_chat_completion_with_headers_usage_and_reasoning(proxy: Proxy) -> None:
    proxy.google.reply([thought("Small talk.", None)], [text("Hello")], [text(" there.")], usage=USAGE)
    with proxy.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
        )
    completion = raw.parse()
    assert raw.headers["x-mapped-model"] == "gemini-2.5-flash" and raw.headers["x-account"] == MASKED
    assert completion.model == "gpt-4o"  # the name the client asked for
    message = completion.choices[0].message
    assert message.content == "Hello there." and completion.choices[0].finish_reason == "stop"
    assert (message.model_extra or {})["reasoning_content"] == "Small talk."
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (
        18,
        12,
        30,
    )
    assert completion.usage.prompt_tokens_details and completion.usage.prompt_tokens_details.cached_tokens == 6
    request = proxy.request()
    assert request["systemInstruction"] == {"parts": [{"text": "Be kind."}]}
    assert request["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert request["generationConfig"]["thinkingConfig"] == {"includeThoughts": True}


def test_streamed_chat_with_the_usage_chunk(proxy: Proxy) -> None:
    proxy.google.reply([text("One")], [text(", two")], [text(", three.")], usage=USAGE)
    with proxy.client() as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Count to three."}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "One, two, three."
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 30


def test_tool_round_trip_puts_back_the_signatures_google_gave(proxy: Proxy) -> None:
    """Google's signatures come back on the calls' next turn (by Google's id; by name and arguments for an id
    we made up): multi-turn tool use with a thinking model never meets "missing thought_signature"."""
    proxy.google.reply(
        [thought("Two cities.", None)],
        [
            function_call("get_weather", {"city": "Oslo"}, signature=CALL_SIG, call_id="g-oslo"),
            function_call("get_weather", {"city": "Rome"}, signature=SECOND_SIG),
        ],
    )
    proxy.google.reply([text("Oslo rains, Rome shines.")])
    messages: list[Any] = [{"role": "user", "content": "Weather in Oslo and Rome?"}]
    with proxy.client() as client:
        first = client.chat.completions.create(model="gemini-3-pro-high", messages=messages, tools=[WEATHER])
        message = first.choices[0].message
        calls = message.tool_calls or []
        assert first.choices[0].finish_reason == "tool_calls"
        assert [call.id for call in calls][0] == "g-oslo" and calls[1].id.startswith("call_")
        assert [call.function.arguments for call in calls] == ['{"city":"Oslo"}', '{"city":"Rome"}']
        messages.append(message)
        messages += [
            {"role": "tool", "tool_call_id": calls[0].id, "content": "rain"},
            {"role": "tool", "tool_call_id": calls[1].id, "content": '{"sky": "clear"}'},
        ]
        second = client.chat.completions.create(model="gemini-3-pro-high", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "Oslo rains, Rome shines."
    contents = proxy.request()["contents"]
    model_parts = [part for part in contents[1]["parts"] if "functionCall" in part]
    assert [(part["functionCall"]["id"], part.get("thoughtSignature")) for part in model_parts] == [
        ("g-oslo", CALL_SIG),
        (calls[1].id, SECOND_SIG),
    ]
    assert [part["functionResponse"] for part in contents[2]["parts"]] == [
        {"name": "get_weather", "id": "g-oslo", "response": {"result": "rain"}},
        {"name": "get_weather", "id": calls[1].id, "response": {"result": {"sky": "clear"}}},
    ]
    declared = proxy.request()["tools"][0]["functionDeclarations"][0]["parameters"]
    assert "$schema" not in declared and "additionalProperties" not in declared


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_structured_output_parses_and_goes_up_as_a_response_schema(proxy: Proxy) -> None:
    proxy.google.reply([text('{"name": "Ann",')], [text(' "age": 31}')])
    with proxy.client() as client:
        completion = client.chat.completions.parse(
            model="gpt-4o", messages=[{"role": "user", "content": "Ann is 31."}], response_format=Person
        )
    assert completion.choices[0].message.parsed == Person(name="Ann", age=31)
    config = proxy.request()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["type"] == "OBJECT"
    assert set(config["responseSchema"]["properties"]) == {"name", "age"}


def test_the_stream_helper_accumulates_tool_calls(proxy: Proxy) -> None:
    proxy.google.reply([text("Checking. ")], [function_call("get_weather", {"city": "Paris"}, call_id="g-paris")])
    with proxy.client() as client:
        with client.beta.chat.completions.stream(
            model="gpt-4o", messages=[{"role": "user", "content": "Paris?"}], tools=[WEATHER]
        ) as stream:
            done = [event.name for event in stream if event.type == "tool_calls.function.arguments.done"]
            final = stream.get_final_completion()
    assert done == ["get_weather"]
    assert final.choices[0].message.content == "Checking. "
    assert [call.id for call in final.choices[0].message.tool_calls or ()] == ["g-paris"]


def test_a_stream_cut_part_way_raises_the_sdks_error(proxy: Proxy) -> None:
    proxy.google.reply([text("Once")], [text(" upon")], [text(" a time")])
    proxy.google.fail("streamGenerateContent", status=200, cut_after=1)
    seen: list[str] = []
    with proxy.client() as client:
        stream = client.chat.completions.create(
            model=CUT_MODEL, messages=[{"role": "user", "content": "A story."}], stream=True
        )
        with pytest.raises(openai.APIError) as raised:
            for chunk in stream:
                seen.extend(choice.delta.content or "" for choice in chunk.choices)
    assert "".join(seen) == "Once"
    assert "broke off part-way" in raised.value.message  # our message, not a silent end


def test_an_unusable_reply_is_an_error_not_an_empty_answer(proxy: Proxy) -> None:
    proxy.google.reply([text("")], finish_reason="MALFORMED_FUNCTION_CALL")
    with proxy.client() as client, pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Weather?"}])
    assert raised.value.status_code == 502 and "MALFORMED_FUNCTION_CALL" in raised.value.message


def test_fields_google_cannot_honour_are_400s_naming_them(proxy: Proxy) -> None:
    sent = len(proxy.google.calls_to("streamGenerateContent"))
    with proxy.client() as client:
        with pytest.raises(openai.BadRequestError) as raised:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], logprobs=True)
        assert "logprobs" in raised.value.message and raised.value.type == "invalid_request_error"
        with pytest.raises(openai.BadRequestError, match="suffix"):
            client.completions.create(model="gpt-3.5-turbo-instruct", prompt="def f(", suffix="return 1")
    assert len(proxy.google.calls_to("streamGenerateContent")) == sent  # refused before reaching Google


def test_n_choices_are_candidates(proxy: Proxy) -> None:
    proxy.google.reply([text("Red.")])
    with proxy.client() as client:
        completion = client.chat.completions.create(
            model="gpt-4o", n=2, messages=[{"role": "user", "content": "A color?"}]
        )
    assert proxy.request()["generationConfig"]["candidateCount"] == 2
    assert completion.choices[0].message.content == "Red."  # the fake answers with one candidate


def test_legacy_completions_plain_and_streamed(proxy: Proxy) -> None:
    proxy.google.reply([text(" there was")], [text(" a fox.")], usage=USAGE)
    proxy.google.reply([text(" there was")], [text(" a fox.")], usage=USAGE)
    with proxy.client() as client:
        plain = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=30)
        streamed = list(
            client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Once", stream=True, stream_options={"include_usage": True}
            )
        )
    assert plain.object == "text_completion" and plain.choices[0].text == " there was a fox."
    assert plain.choices[0].finish_reason == "stop"
    assert "".join(choice.text for piece in streamed for choice in piece.choices) == " there was a fox."
    assert streamed[-1].usage is not None and streamed[-1].usage.total_tokens == 30
    assert proxy.request(-2)["generationConfig"]["maxOutputTokens"] == 30


def test_the_async_client_streams_and_accumulates(proxy: Proxy) -> None:
    proxy.google.reply([text("Hel")], [text("lo.")])

    async def run() -> str | None:
        async with proxy.async_client() as client:
            state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            async for chunk in stream:
                state.handle_chunk(chunk)
            return state.get_final_completion().choices[0].message.content

    assert asyncio.run(run()) == "Hello."
