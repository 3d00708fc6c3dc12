"""Stored responses through the official `openai` SDK, against the in-process proxy and a fake Google as strict
about thought signatures as the real one: conversations continued with `previous_response_id` (a tool round trip
whose thinking and call signatures come back from the stored reasoning item), `store: false` never kept, responses
read back (`retrieve`, `input_items.list`), deleted, and evicted by the store's bound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.responses import Response

from tests.fakes.generation import function_call, text, thought
from tests.inprocess import InProcessProxy
from tests.integration.test_responses_sdk import WEATHER_TOOL
from tests.sdkproxy import FAILURE_MODEL, SDK_KEY, Upstream, fake_signature, model_parts, response_parts
from trayagent.proxy.responsestore import ResponseStore

pytestmark = pytest.mark.timeout(60)

UNKNOWN = ("is unknown or expired", "keeps responses in memory only")


@pytest.fixture(scope="module")
def client(sdk_proxy: InProcessProxy) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sdk_proxy.base + "/v1", api_key=SDK_KEY, max_retries=0, timeout=20) as sdk:
        yield sdk


def ask_weather(client: openai.OpenAI, google: Any, model: str, tag: str, *, streamed: bool) -> tuple[Response, str]:
    """Turn one, stored (store is left to its default): a signed thought, then a call (Gemini signs the call too,
    Claude only its thinking). The response and the thought's signature."""
    thought_sig = fake_signature(f"store-thought-{tag}")
    call_sig = None if "claude" in model else fake_signature(f"store-call-{tag}")
    google.reply(
        [thought("Need the weather.", thought_sig)],
        [function_call("get_weather", {"city": "Oslo"}, signature=call_sig)],
    )
    kwargs: dict[str, Any] = {
        "model": model,
        "input": f"Weather in Oslo? ({tag})",
        "instructions": "Answer in one sentence.",
        "tools": [WEATHER_TOOL],
        "reasoning": {"effort": "high", "summary": "auto"},
    }
    if streamed:
        with client.responses.stream(**kwargs) as stream:
            first = stream.get_final_response()
    else:
        first = client.responses.create(**kwargs)
    assert [item.type for item in first.output] == ["reasoning", "function_call"] and first.store is True
    return first, thought_sig


@pytest.mark.parametrize(
    ("model", "streamed"),
    [("gemini-3-pro-high", False), ("gemini-3-pro-high", True), ("claude-sonnet-4-6-thinking", False)],
    ids=["gemini-create", "gemini-stream", "claude-create"],
)
def test_a_tool_round_trip_continues_from_the_stored_response(
    client: openai.OpenAI, upstream: Upstream, model: str, streamed: bool
) -> None:
    first, thought_sig = ask_weather(client, upstream.google, model, f"{model}-{streamed}", streamed=streamed)
    call = first.output[1]
    assert call.type == "function_call"
    upstream.google.reply([text("Cold: -3 degrees and snow.")])
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "-3 degrees, snow"}
    second = client.responses.create(
        model=model, previous_response_id=first.id, input=[output], tools=[WEATHER_TOOL], store=False
    )
    assert second.output_text == "Cold: -3 degrees and snow." and second.previous_response_id == first.id

    # Only the new turn was sent; the question, the thinking and the call came from the store, signed as Google
    # signed them (the thought part could come from nowhere else: no client sent it back).
    sent = upstream.last()
    assert sent["contents"][0] == {"role": "user", "parts": [{"text": f"Weather in Oslo? ({model}-{streamed})"}]}
    thought_part, call_part = model_parts(sent)
    assert thought_part == {"text": "Need the weather.", "thought": True, "thoughtSignature": thought_sig}
    assert call_part["functionCall"] == {"name": "get_weather", "args": {"city": "Oslo"}, "id": call.call_id}
    assert response_parts(sent) == [
        {"name": "get_weather", "id": call.call_id, "response": {"result": "-3 degrees, snow"}}
    ]
    assert "systemInstruction" not in sent  # instructions are not carried over, as at OpenAI
    assert upstream.refusals() == [] and len(upstream.generations()) == 2


def test_a_three_turn_conversation_grows_from_the_stored_turns(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("Blue.")])
    first = client.responses.create(model="gpt-4o", input="Name a colour.")
    upstream.google.reply([text("Green.")])
    second = client.responses.create(model="gpt-4o", input="Another.", previous_response_id=first.id)
    upstream.google.reply([text("Red.")])
    third = client.responses.create(model="gpt-4o", input="One more.", previous_response_id=second.id)
    assert third.output_text == "Red."
    turns = [(content["role"], content["parts"][0]["text"]) for content in upstream.last()["contents"]]
    assert turns == [("user", "Name a colour."), ("model", "Blue."), ("user", "Another."), ("model", "Green."),
                     ("user", "One more.")]  # fmt: skip
    assert len({email for email in upstream.emails()}) == 1  # one conversation, one account


def test_a_store_false_response_cannot_be_continued(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("Not kept.")])
    first = client.responses.create(model="gpt-4o", input="hi", store=False)
    assert first.store is False
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="gpt-4o", input="and?", previous_response_id=first.id)
    error = raised.value
    assert error.status_code == 400 and error.param == "previous_response_id"
    assert error.code == "previous_response_not_found" and first.id in error.message
    assert all(words in error.message for words in UNKNOWN), error.message
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    assert len(upstream.generations()) == 1


def test_retrieve_gives_the_reply_as_it_was_sent(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply(
        [text("Kept.")], usage={"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4}
    )
    created = client.responses.with_raw_response.create(model="gpt-4o", input="keep this", metadata={"k": "v"})
    response = created.parse()
    retrieved = client.responses.with_raw_response.retrieve(response.id)
    assert json.loads(retrieved.content) == json.loads(created.content)
    assert retrieved.parse().status == "completed" and retrieved.parse().output_text == "Kept."
    assert len(upstream.generations()) == 1  # read from memory, not asked again


def test_an_unknown_id_is_not_found_in_openais_shape(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.responses.retrieve("resp_never_made")
    assert "resp_never_made" in raised.value.message and all(words in raised.value.message for words in UNKNOWN)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_never_made")


def test_stored_responses_need_the_key_and_answer_in_openais_shape(sdk_proxy: InProcessProxy) -> None:
    with openai.OpenAI(base_url=sdk_proxy.base + "/v1", api_key="sk-wrong-00000000", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            wrong.responses.retrieve("resp_any")
        with pytest.raises(openai.AuthenticationError):
            wrong.responses.delete("resp_any")
    refused = sdk_proxy.request("PUT", "/v1/responses/resp_any")
    assert refused.status == 405 and refused.json()["error"]["type"] == "invalid_request_error"


def test_a_streamed_response_is_retrievable_once_the_stream_completed(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    upstream.google.reply([text("Str")], [text("eamed.")])
    events = list(client.responses.create(model="gpt-4o", input="stream it", stream=True))
    completed = events[-1]
    assert completed.type == "response.completed"
    retrieved = client.responses.retrieve(completed.response.id)
    assert retrieved.to_dict() == completed.response.to_dict() and retrieved.output_text == "Streamed."


def test_a_failed_stream_is_not_stored(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("one ")], [text("two ")], [text("three")])
    upstream.google.fail("streamGenerateContent", 200, cut_after=1)
    with client.responses.stream(model=FAILURE_MODEL, input="count") as stream:
        events = list(stream)
    failed = events[-1]
    assert failed.type == "response.failed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(failed.response.id)


def test_input_items_list_the_conversation_newest_first_page_by_page(client: openai.OpenAI, upstream: Upstream) -> None:
    first, _ = ask_weather(client, upstream.google, "gemini-3-pro-high", "items", streamed=False)
    call = first.output[1]
    assert call.type == "function_call"
    upstream.google.reply([text("Snow.")])
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "-3 degrees, snow"}
    second = client.responses.create(model="gemini-3-pro-high", previous_response_id=first.id, input=[output])
    ascending = client.responses.input_items.list(second.id, order="asc")
    assert [item.type for item in ascending.data] == ["message", "reasoning", "function_call", "function_call_output"]
    message = ascending.data[0]
    assert message.type == "message" and message.content[0].type == "input_text"
    assert message.content[0].text == "Weather in Oslo? (items)"
    assert [item.id for item in ascending.data[1:3]] == [item.id for item in first.output]
    paged = [item.id for item in client.responses.input_items.list(second.id, limit=3)]  # the SDK pages on
    assert paged == [item.id for item in reversed(ascending.data)]
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.input_items.list(second.id, limit=500)
    assert raised.value.param == "limit"


def test_a_deleted_response_is_gone(client: openai.OpenAI, upstream: Upstream) -> None:
    upstream.google.reply([text("Soon gone.")])
    response = client.responses.create(model="gpt-4o", input="delete me")
    assert client.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-4o", input="and?", previous_response_id=response.id)


@pytest.fixture
def small_store(sdk_proxy: InProcessProxy) -> Iterator[ResponseStore]:
    """A store that keeps two responses, in place of the proxy's own for one test."""
    own, sdk_proxy.ctx.responses = sdk_proxy.ctx.responses, ResponseStore(max_entries=2)
    try:
        yield sdk_proxy.ctx.responses
    finally:
        sdk_proxy.ctx.responses = own


def test_the_store_evicts_the_least_recently_used_past_its_bound(
    client: openai.OpenAI, upstream: Upstream, small_store: ResponseStore
) -> None:
    ids = []
    for word in ("one", "two"):
        upstream.google.reply([text(word)])
        ids.append(client.responses.create(model="gpt-4o", input=word).id)
    client.responses.retrieve(ids[0])  # read back: "one" is now the most recently used
    upstream.google.reply([text("three")])
    ids.append(client.responses.create(model="gpt-4o", input="three").id)
    assert len(small_store) == 2
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(ids[1])
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="gpt-4o", input="go on", previous_response_id=ids[1])
    assert all(words in raised.value.message for words in UNKNOWN)
    assert [client.responses.retrieve(i).output_text for i in (ids[0], ids[2])] == ["one", "three"]
