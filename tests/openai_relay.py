"""The official openai SDK in front of the pure OpenAI front ends, with no network: an httpx2 transport
does what the relay does (body → `parse`; canned Google chunks → `render` or the stream encoder; a ProxyError →
the front end's error body with its status), so the SDK's own request building, SSE decoder, response models,
`.parse()` and stream helpers run against our bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import httpx2
import openai
import orjson
from openai.types import Completion
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import ClientCall, ClientTarget, CountingIds, Frontend

BASE_URL = "http://127.0.0.1:8045/v1"
_MODELS: Mapping[str, type[openai.BaseModel]] = {
    "chat.completion": ChatCompletion,
    "chat.completion.chunk": ChatCompletionChunk,
    "text_completion": Completion,
}


def assert_sdk_shape(value: Mapping[str, Any]) -> None:
    """`value` is exactly what the SDK's model for its `object` holds: it validates, and dumping the model gives
    `value` back (nothing coerced, nothing lost). Legacy completion chunks stream finish_reason null, which
    OpenAI sends and the SDK's model does not declare: it is checked as "stop"."""
    if "error" in value:
        return
    model = _MODELS[str(value["object"])]
    body = dict(value)
    if model is Completion:
        body["choices"] = [{**choice, "finish_reason": choice["finish_reason"] or "stop"} for choice in body["choices"]]
    assert model.model_validate(body).to_dict(mode="json") == body


def assert_sdk_stream(wire: bytes) -> None:
    """Every event of a stream has the SDK's shape, and the stream ends with `[DONE]`."""
    assert wire.endswith(b"data: [DONE]\n\n")
    for event in wire.split(b"\n\n"):
        if event.startswith(b"data: {"):
            assert_sdk_shape(orjson.loads(event[len(b"data: ") :]))


class Relay:
    """One canned upstream answer per request, in order; every parsed call is kept for the test to inspect."""

    def __init__(
        self,
        frontend: Frontend,
        *answers: Sequence[Mapping[str, Any]],
        error: ProxyError | None = None,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        self.frontend = frontend
        self.answers = list(answers)
        self.error = error  # when set, every stream ends with fail(error) instead of finish()
        self.routes = dict(routes or {})
        self.calls: list[ClientCall] = []
        self.asynchronous = False  # an AsyncClient reads a streamed body from an async iterator

    def _failure(self, error: ProxyError) -> httpx2.Response:
        return httpx2.Response(error.status_code, json=self.frontend.render_error(error))

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        target = ClientTarget(
            path=request.url.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            upstream_model=lambda name: self.routes.get(name, name),
        )
        try:
            call = self.frontend.parse(orjson.loads(request.content), target)
        except ProxyError as error:
            return self._failure(error)
        self.calls.append(call)
        chunks = self.answers.pop(0)
        if call.stream:
            pieces = self._stream(call, chunks)
            content = _async(pieces) if self.asynchronous else pieces
            return httpx2.Response(200, headers={"content-type": self.frontend.media_type(call)}, content=content)
        try:
            reply = self.frontend.render(call, merge_chunks(list(chunks)), CountingIds())
        except ProxyError as error:
            return self._failure(error)
        assert_sdk_shape(reply)
        return httpx2.Response(200, json=reply)

    def _stream(self, call: ClientCall, chunks: Sequence[Mapping[str, Any]]) -> Iterator[bytes]:
        """The encoder's output piece by piece, as the relay writes it (the SDK's decoder sees every boundary)."""
        encoder = self.frontend.encoder(call, CountingIds())
        written = []
        try:
            for chunk in chunks:
                piece = encoder.feed(chunk)
                if piece:
                    written.append(piece)
                    yield piece
        except StreamBroken as broken:  # the reply turned out unusable: the relay answers with fail()
            last = encoder.fail(broken)
        else:
            last = encoder.fail(self.error) if self.error is not None else encoder.finish()
        assert_sdk_stream(b"".join([*written, last]))
        yield last


async def _async(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _options(strict: bool) -> dict[str, Any]:
    return {"api_key": "sk-test", "base_url": BASE_URL, "max_retries": 0, "_strict_response_validation": strict}


def sdk_client(relay: Relay, strict: bool = True) -> openai.OpenAI:
    """A real client; strict response validation so every reply and chunk is checked against the SDK's models
    (not for legacy completion streams: see `sdk_stream`)."""
    return openai.OpenAI(**_options(strict), http_client=httpx2.Client(transport=httpx2.MockTransport(relay)))


def async_sdk_client(relay: Relay) -> openai.AsyncOpenAI:
    relay.asynchronous = True
    transport = httpx2.MockTransport(relay)
    return openai.AsyncOpenAI(**_options(True), http_client=httpx2.AsyncClient(transport=transport))


def sdk_stream(wire: bytes, cast_to: type[Any], strict: bool = True) -> openai.Stream[Any]:
    """The SDK's own Stream (its SSE decoder, its `data: {"error"}` handling) over bytes we produced. `strict`
    validates every chunk against `cast_to`; the legacy `Completion` model cannot be strict for chunks (its
    finish_reason is not nullable, yet OpenAI streams null until the last chunk), so those are read as the SDK
    reads them by default."""
    request = httpx2.Request("POST", BASE_URL + "/chat/completions")
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=wire, request=request)
    client = openai.OpenAI(api_key="sk-test", base_url=BASE_URL, _strict_response_validation=strict)
    return openai.Stream(cast_to=cast_to, response=response, client=client)
