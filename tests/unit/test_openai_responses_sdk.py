"""The official `openai` SDK reads what the Responses front end writes: its strict pydantic validation, its SSE
decoder, `responses.parse` / `responses.stream` accumulation, and typed errors.

The SDK talks to the front end in-process through httpx's MockTransport (a transport, not a mock object): the
handler does what the relay does with a canned upstream reply, so every byte the SDK parses is ours.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import openai
import orjson
import pytest
from openai.types.responses import Response
from pydantic import BaseModel

from tests.golden import encode_stream
from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import ClientCall, ClientTarget, CountingIds
from trayagent.translate.openai_responses import RESPONSES

Chunks = list[dict[str, Any]]
FLASH = {"gpt-5-codex": "gemini-3-flash"}


def _text_chunks(*texts: str, finish: str = "STOP") -> Chunks:
    chunks: Chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]} for text in texts]
    chunks[-1]["candidates"][0]["finishReason"] = finish
    chunks[-1]["usageMetadata"] = {
        "promptTokenCount": 12,
        "cachedContentTokenCount": 4,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 7,
        "totalTokenCount": 24,
    }
    return chunks


class Proxy:
    """The relay's work for one canned upstream reply per request; the calls it parsed, for checks."""

    def __init__(self, *replies: Chunks, error: ProxyError | None = None) -> None:
        self.replies = list(replies)
        self.error = error
        self.calls: list[ClientCall] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = orjson.loads(request.content)
        target = ClientTarget(
            path=request.url.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            upstream_model=lambda name: FLASH.get(name, name),
        )
        try:
            call = RESPONSES.parse(body, target)
        except ProxyError as error:
            return httpx2.Response(error.status_code, json=RESPONSES.render_error(error))
        self.calls.append(call)
        chunks = self.replies.pop(0)
        if call.stream:
            wire = encode_stream(RESPONSES, call, chunks, self.error)
            return httpx2.Response(200, headers={"content-type": RESPONSES.media_type(call)}, content=wire)
        return httpx2.Response(200, json=RESPONSES.render(call, merge_chunks(chunks), CountingIds()))

    def client(self) -> openai.OpenAI:
        http = httpx2.Client(transport=httpx2.MockTransport(self.handle))
        return openai.OpenAI(
            api_key="sk-test",
            base_url="http://proxy.test/v1",
            http_client=http,
            max_retries=0,
            _strict_response_validation=True,
        )


def test_create_returns_a_response_the_sdk_validates_strictly() -> None:
    proxy = Proxy(_text_chunks("Hello", " world"))
    response = proxy.client().responses.create(model="gpt-5-codex", input="Say hello", instructions="Be brief.")
    assert isinstance(response, Response)
    assert response.output_text == "Hello world"
    assert response.status == "completed" and response.model == "gpt-5-codex"
    assert response.instructions == "Be brief."
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (12, 12, 24)
    assert usage.input_tokens_details.cached_tokens == 4
    assert usage.output_tokens_details.reasoning_tokens == 7
    request = proxy.calls[0].hub.request
    assert request["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert request["contents"] == [{"role": "user", "parts": [{"text": "Say hello"}]}]


def test_max_tokens_is_incomplete_with_its_reason() -> None:
    response = Proxy(_text_chunks("Cut", finish="MAX_TOKENS")).client().responses.create(model="m", input="x")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "Cut"


def test_a_malformed_function_call_is_a_failed_response_not_a_silent_success() -> None:
    response = Proxy(_text_chunks("", finish="MALFORMED_FUNCTION_CALL")).client().responses.create(model="m", input="x")
    assert response.status == "failed"
    assert response.error is not None and "MALFORMED_FUNCTION_CALL" in response.error.message


def test_stream_events_pass_the_sdk_decoder_and_its_strict_models() -> None:
    proxy = Proxy(_text_chunks("Hel", "lo"))
    events = list(proxy.client().responses.create(model="m", input="hi", stream=True))
    kinds = [event.type for event in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Hello"
    assert completed.response.id == events[0].response.id  # type: ignore[union-attr]


class Answer(BaseModel):
    city: str
    population: int


def _json_chunks() -> Chunks:
    return _text_chunks('{"city": "Lyon", ', '"population": 522000}')


def test_responses_parse_gives_the_pydantic_object() -> None:
    proxy = Proxy(_json_chunks())
    parsed = proxy.client().responses.parse(model="m", input="Biggest city near the Alps?", text_format=Answer)
    assert parsed.output_parsed == Answer(city="Lyon", population=522000)
    config = proxy.calls[0].hub.request["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"city", "population"}


def test_responses_stream_accumulates_to_the_final_parsed_response() -> None:
    proxy = Proxy(_json_chunks())
    with proxy.client().responses.stream(model="m", input="Biggest city?", text_format=Answer) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == '{"city": "Lyon", "population": 522000}'
    assert final.output_parsed == Answer(city="Lyon", population=522000)


def _call_chunks(name: str, args: dict[str, Any], signature: str) -> Chunks:
    part = {"functionCall": {"name": name, "args": args}, "thoughtSignature": signature}
    chunk = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]}
    return [chunk]


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_round_trip_without_server_state_carries_the_signature_back(stream: bool) -> None:
    proxy = Proxy(_call_chunks("get_weather", {"city": "Oslo"}, "sig-for-the-call"), _text_chunks("Cold."))
    client = proxy.client()
    first_input: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
    if stream:
        with client.responses.stream(model="m", input=first_input, tools=[WEATHER], store=False) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(model="m", input=first_input, tools=[WEATHER], store=False)
    kinds = [item.type for item in first.output]
    assert kinds == ["reasoning", "function_call"]
    call = first.output[1]
    assert call.type == "function_call" and call.name == "get_weather" and call.arguments == '{"city":"Oslo"}'
    assert call.id and call.call_id
    echoed = [item.model_dump(exclude_none=True) for item in first.output]
    second_input = [*first_input, *echoed, {"type": "function_call_output", "call_id": call.call_id, "output": "-8C"}]
    second = client.responses.create(model="m", input=second_input, tools=[WEATHER], store=False)  # type: ignore[arg-type]
    assert second.output_text == "Cold."
    contents = proxy.calls[1].hub.request["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": call.call_id},
                "thoughtSignature": "sig-for-the-call",
            }
        ],
    }
    response = {"name": "get_weather", "id": call.call_id, "response": {"result": "-8C"}}
    assert contents[2] == {"role": "user", "parts": [{"functionResponse": response}]}


def test_custom_tool_in_a_namespace_comes_back_as_a_custom_tool_call() -> None:
    namespace = {
        "type": "namespace",
        "name": "shell",
        "description": "Run things.",
        "tools": [{"type": "custom", "name": "run", "description": "Run a script.", "format": {"type": "text"}}],
    }
    proxy = Proxy(_call_chunks("shell__run", {"input": "ls -la"}, "sig-run"))
    response = proxy.client().responses.create(model="m", input="list files", tools=[namespace])  # type: ignore[list-item]
    call = response.output[-1]
    assert call.type == "custom_tool_call"
    assert (call.name, call.namespace, call.input) == ("run", "shell", "ls -la")
    declared = proxy.calls[0].hub.request["tools"][0]["functionDeclarations"]
    assert [item["name"] for item in declared] == ["shell__run"]


def broken_stream() -> Proxy:
    return Proxy(_text_chunks("Partial")[:1], error=StreamBroken("Google closed the stream"))


def test_error_mid_stream_reaches_the_sdk_as_failed_never_as_a_quiet_end() -> None:
    events = list(broken_stream().client().responses.create(model="m", input="hi", stream=True))
    assert [event.type for event in events[-2:]] == ["error", "response.failed"]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.error is not None and failed.response.error.message == "Google closed the stream"
    assert failed.response.output_text == "Partial"


def test_the_stream_helper_refuses_a_final_response_after_a_failure() -> None:
    with broken_stream().client().responses.stream(model="m", input="hi") as stream:
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()


def test_bad_fields_are_the_sdk_typed_400_with_our_message() -> None:
    client = Proxy().client()
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        client.responses.create(model="m", input="hi", previous_response_id="resp_123", store=False)
    with pytest.raises(openai.BadRequestError, match="reasoning.effort"):
        client.responses.create(model="m", input="hi", reasoning={"effort": "enormous"})  # type: ignore[typeddict-item]


def test_async_client_streams_the_same_events() -> None:
    proxy = Proxy(_text_chunks("Hi"))

    async def handler(request: httpx2.Request) -> httpx2.Response:
        return proxy.handle(request)

    async def run() -> list[str]:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        client = openai.AsyncOpenAI(
            api_key="sk-test", base_url="http://proxy.test/v1", http_client=http, _strict_response_validation=True
        )
        async with client.responses.stream(model="m", input="hi") as stream:
            final = await stream.get_final_response()
        return [final.output_text]

    assert asyncio.run(run()) == ["Hi"]
