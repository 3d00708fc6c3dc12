"""The official google-genai SDK against a proxy (in-process) and the fake Google with one account:
generation (plain and streamed, sync and async), countTokens, the model list, what reaches Cloud Code,
the response headers, and errors in Gemini's shape.

One server serves the whole module, so a test never leaves the account cooling down for a model another
test uses: the tests that do (a stream cut part-way, a quota 429, an outage) each have a model of their own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.accountproxy import SignedInProxy, signed_in_proxy
from tests.fakes.generation import count_tokens, function_call, text, thought
from tests.fakes.google import DEFAULT_MODELS, FakeGoogle
from tests.serverproc import http

pytestmark = pytest.mark.timeout(60)

KEY = "sk-gemini-sdk-0123456789"
ALICE = "alice@example.com"
MASKED = "al***@ex***"
PROJECT = "proj-alice"
THOUGHT_SIG = b"thought-signature-1"
CALL_SIG = b"call-signature-1"
USAGE = {
    "promptTokenCount": 11,
    "candidatesTokenCount": 7,
    "totalTokenCount": 21,
    "thoughtsTokenCount": 3,
    "cachedContentTokenCount": 2,
}
# Models of their own for the tests that leave the account cooling down for a model (a stream cut part-way,
# a quota 429, an outage).
CUT_JSON_MODEL, CUT_SSE_MODEL = "gemini-2.5-pro", "gemini-3-flash"
QUOTA_MODEL, OUTAGE_MODEL = "claude-opus-4-6-thinking", "gemini-3-pro-low"
SKIP_SIGNATURE = "skip_thought_signature_validator"  # what Gemini accepts for a signature it never issued
CONFIG_EXTRA = """
models:
  mapping:
    house-model: gemini-3-pro-high
"""


# Keep-alives and backend metadata before the first chunk and between chunks: never shown to a client.
NOISE = {
    0: b': keep-alive\r\n\r\ndata: {"__cloudCodeMeta": {"backend": "fake"}}\r\n\r\n',
    2: b': ping\r\n\r\ndata: {"__cloudCodeMeta": {"backend": "fake", "n": 2}}\r\n\r\n',
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class Proxy(SignedInProxy):
    def client(self, api_version: str | None = "v1beta") -> genai.Client:
        options = types.HttpOptions(
            base_url=self.base,
            api_version=api_version,
            timeout=10_000,
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(api_key=KEY, http_options=options)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    google = FakeGoogle().start()
    try:
        spare = {
            name: {"displayName": name, "remainingFraction": 1.0}
            for name in (CUT_JSON_MODEL, CUT_SSE_MODEL, QUOTA_MODEL, OUTAGE_MODEL)
        }
        google.add_account(ALICE, project=PROJECT, models={**DEFAULT_MODELS, **spare})
        home = tmp_path_factory.mktemp("gemini-sdk")
        with signed_in_proxy(home, google, KEY, [ALICE], extra=CONFIG_EXTRA, kind=Proxy) as proxy:
            yield proxy
    finally:
        google.stop()


@pytest.fixture(autouse=True)
def fresh_script(proxy: Proxy) -> Iterator[None]:
    proxy.google.clear_scripts()
    yield
    proxy.google.clear_scripts()


def script_thinking_reply(google: FakeGoogle, **kwargs: Any) -> None:
    """Thoughts in two chunks (signed on the second), text in two, then a signed function call."""
    google.reply(
        [thought("Thinking about ", None)],
        [thought("the weather.", b64(THOUGHT_SIG))],
        [text("Let me ")],
        [text("check."), function_call("get_weather", {"city": "Paris"}, signature=b64(CALL_SIG), call_id="call-1")],
        finish_reason="STOP",
        usage=USAGE,
        **kwargs,
    )


def only_candidate(response: types.GenerateContentResponse) -> types.Candidate:
    assert response.candidates is not None and len(response.candidates) == 1
    return response.candidates[0]


def check_usage(usage: types.GenerateContentResponseUsageMetadata | None) -> None:
    assert usage is not None
    assert usage.prompt_token_count == 11
    assert usage.candidates_token_count == 7
    assert usage.total_token_count == 21
    assert usage.thoughts_token_count == 3
    assert usage.cached_content_token_count == 2


MODEL_FORMS = [
    ("v1beta", "gemini-2.5-flash"),
    ("v1beta", "models/gemini-2.5-flash"),
    ("v1", "gemini-2.5-flash"),
    ("v1", "models/gemini-2.5-flash"),
]


# -- generation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("api_version", "model"), MODEL_FORMS)
def test_generate_content_merges_the_streamed_chunks(proxy: Proxy, api_version: str, model: str) -> None:
    script_thinking_reply(proxy.google)
    with proxy.client(api_version) as client:
        response = client.models.generate_content(model=model, contents="Weather in Paris?")

    candidate = only_candidate(response)
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content is not None and candidate.content.role == "model"
    parts = candidate.content.parts or []
    assert len(parts) == 3
    assert parts[0].thought is True and parts[0].text == "Thinking about the weather."
    assert parts[0].thought_signature == THOUGHT_SIG
    assert not parts[1].thought and parts[1].text == "Let me check." and parts[1].thought_signature is None
    assert parts[2].thought_signature == CALL_SIG
    assert response.function_calls == [types.FunctionCall(id="call-1", name="get_weather", args={"city": "Paris"})]
    check_usage(response.usage_metadata)
    assert response.model_version == "gemini-2.5-flash"
    assert proxy.envelope()["model"] == "gemini-2.5-flash"  # `models/` is not part of the upstream name


@pytest.mark.parametrize("api_version", ["v1beta", "v1"])
def test_generate_content_stream_gives_each_chunk(proxy: Proxy, api_version: str) -> None:
    script_thinking_reply(proxy.google, raw_before=NOISE)
    with proxy.client(api_version) as client:
        chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Weather?"))

    assert len(chunks) == 4  # the keep-alive and the backend metadata are not chunks
    candidates = [only_candidate(chunk) for chunk in chunks]
    parts = [candidate.content.parts or [] if candidate.content else [] for candidate in candidates]
    assert [(p[0].text, bool(p[0].thought)) for p in parts] == [
        ("Thinking about ", True),
        ("the weather.", True),
        ("Let me ", False),
        ("check.", False),
    ]
    assert parts[0][0].thought_signature is None and parts[1][0].thought_signature == THOUGHT_SIG
    assert [chunk.function_calls for chunk in chunks[:3]] == [None, None, None]
    assert chunks[3].function_calls == [types.FunctionCall(id="call-1", name="get_weather", args={"city": "Paris"})]
    assert parts[3][1].thought_signature == CALL_SIG
    assert [candidate.finish_reason for candidate in candidates] == [None, None, None, types.FinishReason.STOP]
    assert [chunk.usage_metadata is None for chunk in chunks] == [True, True, True, False]
    check_usage(chunks[3].usage_metadata)


def test_async_client(proxy: Proxy) -> None:
    script_thinking_reply(proxy.google)
    script_thinking_reply(proxy.google)

    async def session() -> None:
        async with proxy.client("v1beta").aio as client:
            whole = await client.models.generate_content(model="gemini-2.5-flash", contents="Weather?")
            assert whole.text == "Let me check."  # the SDK's text leaves thoughts out
            assert whole.function_calls is not None and whole.function_calls[0].name == "get_weather"
            check_usage(whole.usage_metadata)

            pieces = [
                chunk.text
                async for chunk in await client.models.generate_content_stream(
                    model="models/gemini-2.5-flash", contents="Weather?"
                )
            ]
            assert pieces == [None, None, "Let me ", "check."]

            counted = await client.models.count_tokens(model="gemini-2.5-flash", contents="four words right here")
            assert counted.total_tokens == count_tokens(proxy.google.calls_to("countTokens")[-1].body["request"])

            names = [model.name async for model in await client.models.list()]
            assert "models/gemini-2.5-flash" in names
            assert (await client.models.get(model="gemini-2.5-flash")).name == "models/gemini-2.5-flash"

            plain = await client.models.generate_content(model="gemini-2.5-flash", contents="hello")
            assert plain.text == "Hello from gemini-2.5-flash"  # the fake's unscripted answer

    asyncio.run(session())


# -- countTokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", ["v1beta", "v1"])
def test_count_tokens(proxy: Proxy, api_version: str) -> None:
    contents = ["The quick brown fox", "jumps over the lazy dog, twice over."]
    with proxy.client(api_version) as client:
        counted = client.models.count_tokens(model="models/gemini-2.5-flash", contents=contents)
    call = proxy.google.calls_to("countTokens")[-1]
    assert list(call.body) == ["request"]  # no project, no model: the backend refuses them here
    assert [p["text"] for c in call.body["request"]["contents"] for p in c["parts"]] == contents
    assert counted.total_tokens == count_tokens(call.body["request"]) > 1
    assert counted.sdk_http_response is not None and counted.sdk_http_response.headers is not None
    assert counted.sdk_http_response.headers["x-account"] == MASKED


def test_count_tokens_with_a_whole_generate_request(proxy: Proxy) -> None:
    inner = {
        "model": "models/gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "count these words please"}]}],
        "systemInstruction": {"parts": [{"text": "a system prompt"}]},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }
    reply = proxy.post("/v1beta/models/gemini-2.5-flash:countTokens", {"generateContentRequest": inner})
    assert reply.status == 200, reply.body
    sent = proxy.google.calls_to("countTokens")[-1].body
    assert sent == {"request": {"contents": inner["contents"], "systemInstruction": inner["systemInstruction"]}}
    assert reply.json()["totalTokens"] == count_tokens(sent["request"])


# -- the model list -------------------------------------------------------------------------------


def test_models_list_and_get(proxy: Proxy) -> None:
    with proxy.client("v1beta") as client:
        models = {model.name: model for model in client.models.list()}
        assert {"models/gemini-2.5-flash", "models/gemini-3-pro-high", "models/house-model"} <= set(models)
        for model in models.values():
            assert model.supported_actions is not None and "generateContent" in model.supported_actions
            assert model.input_token_limit and model.output_token_limit
        for name in ("gemini-2.5-flash", "models/gemini-2.5-flash"):
            assert client.models.get(model=name).name == "models/gemini-2.5-flash"
        assert client.models.get(model="house-model").name == "models/house-model"
        with pytest.raises(genai_errors.ClientError) as info:
            client.models.get(model="no-such-model")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
    assert "no-such-model" in (info.value.message or "")


def test_models_list_and_get_on_the_sdk_default_api_version(proxy: Proxy) -> None:
    with proxy.client(api_version=None) as client:
        assert "models/gemini-2.5-flash" in [model.name for model in client.models.list()]
        assert client.models.get(model="gemini-2.5-flash").name == "models/gemini-2.5-flash"
    # OpenAI clients keep their shape on the same path.
    listed = http(proxy.port, "GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert listed["object"] == "list" and "gemini-2.5-flash" in [m["id"] for m in listed["data"]]


# -- what reaches Cloud Code ----------------------------------------------------------------------


def what_the_sdk_sends(contents: Any, config: types.GenerateContentConfig) -> dict[str, Any]:
    """The body google-genai puts on the wire for generate_content, read by a one-shot capture server."""
    bodies: list[dict[str, Any]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answer = json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        options = types.HttpOptions(base_url=f"http://127.0.0.1:{server.server_port}", api_version="v1beta")
        with genai.Client(api_key=KEY, http_options=options) as client:
            client.models.generate_content(model="gemini-2.5-flash", contents=contents, config=config)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert len(bodies) == 1
    return bodies[0]


def test_the_request_reaches_cloud_code_intact(proxy: Proxy) -> None:
    config = types.GenerateContentConfig(
        system_instruction="You are terse.",
        temperature=0.25,
        top_p=0.9,
        max_output_tokens=256,
        stop_sequences=["END"],
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=128),
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_weather",
                        description="Current weather",
                        parameters=types.Schema(
                            type=types.Type.OBJECT,
                            properties={"city": types.Schema(type=types.Type.STRING)},
                            required=["city"],
                        ),
                    )
                ]
            )
        ],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["get_weather"]
            )
        ),
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_HARASSMENT, threshold=types.HarmBlockThreshold.BLOCK_NONE
            )
        ],
    )
    history = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        types.Content(
            role="model",
            parts=[
                types.Part(
                    function_call=types.FunctionCall(id="call-1", name="get_weather", args={"city": "Paris"}),
                    thought_signature=CALL_SIG,
                )
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        id="call-1", name="get_weather", response={"result": "sunny"}
                    )
                )
            ],
        ),
    ]
    with proxy.client("v1beta") as client:
        client.models.generate_content(model="gemini-2.5-flash", contents=history, config=config)
        first = proxy.envelope()
        call = proxy.google.calls_to("streamGenerateContent")[-1]
        client.models.generate_content(model="gemini-2.5-flash", contents=history[:1], config=config)
        same_conversation = proxy.envelope()
        client.models.generate_content(model="gemini-2.5-flash", contents="Another question", config=config)
        other_conversation = proxy.envelope()

    assert list(first) == ["project", "model", "userAgent", "requestType", "requestId", "request"]
    assert first["project"] == PROJECT and first["model"] == "gemini-2.5-flash"
    assert first["userAgent"] == "antigravity" and first["requestType"] == "agent"
    request = first["request"]
    assert request["systemInstruction"]["parts"] == [{"text": "You are terse."}]
    declaration = request["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather" and declaration["description"] == "Current weather"
    assert declaration["parameters"]["required"] == ["city"]
    assert declaration["parameters"]["properties"]["city"]["type"] == "STRING"
    assert request["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    generation = request["generationConfig"]
    assert (generation["temperature"], generation["topP"], generation["maxOutputTokens"]) == (0.25, 0.9, 256)
    assert generation["stopSequences"] == ["END"] and generation["thinkingConfig"]
    assert request["safetySettings"] == [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    # The history with its signature goes up as the client sent it: no sentinel, nothing stripped.
    assert request["contents"][1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"id": "call-1", "name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": b64(CALL_SIG),
            }
        ],
    }
    assert request["contents"][2]["parts"][0]["functionResponse"]["response"] == {"result": "sunny"}
    # Exactly what the SDK sent, in its key order, plus the session id.
    sent = what_the_sdk_sends(history, config)
    assert list(request) == [*sent, "sessionId"]
    assert {key: request[key] for key in sent} == sent
    assert call.headers["Authorization"].startswith("Bearer ya29.")
    assert call.headers["User-Agent"].startswith("antigravity/")

    # One conversation keeps its session id; every request has its own request id.
    assert same_conversation["request"]["sessionId"] == request["sessionId"]
    assert other_conversation["request"]["sessionId"] != request["sessionId"]
    assert len({first["requestId"], same_conversation["requestId"], other_conversation["requestId"]}) == 3


SIGNED_HISTORY = [
    types.Content(role="user", parts=[types.Part(text="What is 6 x 7?")]),
    types.Content(
        role="model",
        parts=[
            types.Part(text="Multiply.", thought=True, thought_signature=THOUGHT_SIG),
            types.Part(
                function_call=types.FunctionCall(name="multiply", args={"a": 6, "b": 7}), thought_signature=CALL_SIG
            ),
        ],
    ),
    types.Content(
        role="user",
        parts=[types.Part(function_response=types.FunctionResponse(name="multiply", response={"result": 42}))],
    ),
]


@pytest.mark.parametrize(
    ("model", "refusal", "repaired_model_turn"),
    [
        (
            "gemini-3-pro-high",
            "Thought signature is not valid.",
            [
                {"text": "Multiply.", "thought": True, "thoughtSignature": SKIP_SIGNATURE},
                {"functionCall": {"name": "multiply", "args": {"a": 6, "b": 7}}, "thoughtSignature": SKIP_SIGNATURE},
            ],
        ),
        (
            "claude-sonnet-4-6",
            "messages.1.content.0: Invalid `signature` in `thinking` block",
            [{"functionCall": {"name": "multiply", "args": {"a": 6, "b": 7}}}],
        ),
    ],
)
def test_refused_signatures_are_repaired_and_sent_again(
    proxy: Proxy, model: str, refusal: str, repaired_model_turn: list[dict[str, Any]]
) -> None:
    proxy.google.fail("streamGenerateContent", 400, message=refusal)
    before = len(proxy.google.calls_to("streamGenerateContent"))
    with proxy.client("v1beta") as client:
        response = client.models.generate_content(model=model, contents=SIGNED_HISTORY)
    assert response.text == f"Hello from {model}"
    calls = proxy.google.calls_to("streamGenerateContent")[before:]
    assert len(calls) == 2
    refused, repaired = (call.body["request"]["contents"] for call in calls)
    assert [part.get("thoughtSignature") for part in refused[1]["parts"]] == [b64(THOUGHT_SIG), b64(CALL_SIG)]
    assert repaired[1]["parts"] == repaired_model_turn
    assert repaired[0] == refused[0] and repaired[2] == refused[2]
    assert calls[1].body["request"]["sessionId"] == calls[0].body["request"]["sessionId"]


def test_the_request_keeps_its_key_order(proxy: Proxy) -> None:
    body = {
        "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64},
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {}}}]}],
        "model": "models/gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "order matters for prefix caching"}]}],
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}],
        "systemInstruction": {"parts": [{"text": "sys"}]},
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    }
    reply = proxy.post("/v1beta/models/gemini-2.5-flash:generateContent", body)
    assert reply.status == 200, reply.body
    request = proxy.envelope()["request"]
    expected = [key for key in body if key != "model"] + ["sessionId"]
    assert list(request) == expected
    assert {key: request[key] for key in expected[:-1]} == {key: body[key] for key in expected[:-1]}


# -- response headers and model mapping -----------------------------------------------------------

ONE_TURN = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "/v1beta/models/gemini-2.5-flash:countTokens",
        "/v1/models/gemini-2.5-flash:generateContent",
    ],
)
def test_headers_name_the_account_masked_and_the_mapped_model(proxy: Proxy, path: str) -> None:
    reply = proxy.post(path, ONE_TURN)
    assert reply.status == 200, reply.body
    assert reply.headers["x-account"] == MASKED
    assert reply.headers["x-mapped-model"] == "gemini-2.5-flash"
    assert "alice" not in json.dumps(reply.headers)


@pytest.mark.parametrize(
    ("requested", "upstream"),
    [
        ("house-model", "gemini-3-pro-high"),  # models.mapping in config.yaml
        ("models/house-model", "gemini-3-pro-high"),
        ("gpt-4o-mini", "gemini-2.5-flash"),  # a built-in alias
        ("gemini-2.5-flash", "gemini-2.5-flash"),
    ],
)
def test_a_mapped_name_routes_to_its_upstream_model(proxy: Proxy, requested: str, upstream: str) -> None:
    with proxy.client("v1beta") as client:
        response = client.models.generate_content(model=requested, contents="hi")
    assert response.text == f"Hello from {upstream}"  # the fake answers with the model it was asked for
    assert proxy.envelope()["model"] == upstream
    assert response.sdk_http_response is not None and response.sdk_http_response.headers is not None
    assert response.sdk_http_response.headers["x-mapped-model"] == upstream


# -- errors ---------------------------------------------------------------------------------------

GOOGLE_400 = "Invalid JSON payload received. Unknown name \"fooBar\" at 'generation_config': Cannot find field."


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_upstream_400_reaches_the_sdk_with_googles_message(proxy: Proxy, stream: bool) -> None:
    proxy.google.fail("streamGenerateContent", 400, message=GOOGLE_400)
    before = len(proxy.google.calls_to("streamGenerateContent"))
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ClientError) as info:
        if stream:
            list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        else:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 400 and info.value.status == "INVALID_ARGUMENT"
    assert info.value.message == GOOGLE_400
    assert len(proxy.google.calls_to("streamGenerateContent")) == before + 1  # a bad request is not retried


def test_an_upstream_400_in_gemini_shape_with_the_headers(proxy: Proxy) -> None:
    proxy.google.fail("streamGenerateContent", 400, message=GOOGLE_400)
    reply = proxy.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ONE_TURN)
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {"error": {"code": 400, "message": GOOGLE_400, "status": "INVALID_ARGUMENT"}}
    assert reply.headers["x-mapped-model"] == "gemini-2.5-flash"
    assert reply.headers["x-account"] == MASKED


def test_an_upstream_400_reaches_the_async_sdk(proxy: Proxy) -> None:
    proxy.google.fail("streamGenerateContent", 400, message=GOOGLE_400)

    async def call() -> genai_errors.APIError:
        async with proxy.client("v1").aio as client:
            with pytest.raises(genai_errors.ClientError) as info:
                await client.models.generate_content(model="gemini-2.5-flash", contents="hi")
            return info.value

    error = asyncio.run(call())
    assert error.code == 400 and error.message == GOOGLE_400


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_error_event_before_the_first_chunk_counts_as_the_upstream_answer(proxy: Proxy, stream: bool) -> None:
    """Cloud Code may answer 200 and then send the error as the first event: same outcome as an HTTP 400."""
    error = {"error": {"code": 400, "message": GOOGLE_400, "status": "INVALID_ARGUMENT"}}
    proxy.google.reply([text("never sent")], raw_before={0: b"data: " + json.dumps(error).encode() + b"\r\n\r\n"})
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ClientError) as info:
        if stream:
            list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        else:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 400 and info.value.message == GOOGLE_400


def test_an_upstream_400_on_count_tokens(proxy: Proxy) -> None:
    proxy.google.fail("countTokens", 400, message="Unable to count: the request is too odd.")
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ClientError) as info:
        client.models.count_tokens(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 400 and info.value.message == "Unable to count: the request is too odd."


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/v1beta/models/gemini-2.5-flash:embedContent", ONE_TURN, 404, "unknown method 'embedContent'"),
        ("/v1beta/models/gemini-2.5-flash", ONE_TURN, 404, "{model}:{method}"),
        ("/v1beta/models/:generateContent", ONE_TURN, 400, "model name is missing"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", b'{"contents": [', 400, "not valid JSON"),
        ("/v1/models/gemini-2.5-flash:streamGenerateContent", b"", 400, "empty"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", b"[]", 400, "JSON object"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", {"contents": []}, 400, "contents"),
        ("/v1beta/models/gemini-2.5-flash:countTokens", {"contents": [{"role": "user"}]}, 400, "contents[0]"),
        ("/v1beta/models/gemini-2.5-flash:countTokens", {"generateContentRequest": "x"}, 400, "generateContentRequest"),
    ],
)
def test_requests_refused_before_any_upstream_call(proxy: Proxy, path: str, body: Any, status: int, words: str) -> None:
    before = len(proxy.google.calls)
    reply = proxy.post(path, body)
    assert reply.status == status
    error = reply.json()["error"]
    assert set(error) == {"code", "message", "status"}
    assert error["code"] == status
    assert error["status"] == {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[status]
    assert words in error["message"]
    assert len(proxy.google.calls) == before


def test_a_quota_429_reaches_the_sdk_as_a_client_error(proxy: Proxy) -> None:
    proxy.google.fail(
        "streamGenerateContent",
        429,
        reason="QUOTA_EXHAUSTED",
        metadata={"quotaResetDelay": "1h16m0.667s"},
        message="You have exhausted your capacity on this model.",
    )
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model=QUOTA_MODEL, contents="hi")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    assert "quota" in (info.value.message or "") and "1 h 16 min" in (info.value.message or "")
    retry_after = info.value.response.headers.get("retry-after")
    assert retry_after is not None and int(retry_after) > 0


def test_an_upstream_outage_reaches_the_sdk_as_a_server_error(proxy: Proxy) -> None:
    proxy.google.fail("streamGenerateContent", 503, times=100, message="The service is currently unavailable.")
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ServerError) as info:
        client.models.generate_content(model=OUTAGE_MODEL, contents="hi")
    assert info.value.code == 503 and info.value.status == "UNAVAILABLE"
    assert "currently unavailable" in (info.value.message or "")


def test_an_unknown_method_reaches_the_sdk_as_a_404(proxy: Proxy) -> None:
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ClientError) as info:
        client.models.embed_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"


# -- the JSON-array stream form and broken streams ------------------------------------------------


def sse_events(body: bytes) -> list[Any]:
    return [json.loads(line[6:]) for line in body.decode().split("\r\n") if line.startswith("data: ")]


def test_the_stream_forms(proxy: Proxy) -> None:
    proxy.google.reply([text("one ")], [text("two ")], [text("three")], usage=USAGE, raw_before=NOISE, times=2)

    array = proxy.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent", ONE_TURN)
    assert array.status == 200 and array.headers["content-type"].startswith("application/json")
    chunks = json.loads(array.body)  # one valid JSON document
    events = proxy.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ONE_TURN)
    assert events.status == 200 and events.headers["content-type"].startswith("text/event-stream")

    for form in (chunks, sse_events(events.body)):
        assert isinstance(form, list) and len(form) == 3
        assert all(set(chunk) >= {"candidates"} for chunk in form)
        assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in form] == ["one ", "two ", "three"]
        assert form[-1]["usageMetadata"] == USAGE and form[-1]["candidates"][0]["finishReason"] == "STOP"
    assert b"__cloudCodeMeta" not in array.body + events.body
    assert b"traceId" not in array.body + events.body  # unwrapped from {"response": …}


def test_a_json_array_broken_after_the_first_chunk_ends_with_an_error(proxy: Proxy) -> None:
    proxy.google.fail("streamGenerateContent", 200, cut_after=1)
    reply = proxy.post(f"/v1beta/models/{CUT_JSON_MODEL}:streamGenerateContent", ONE_TURN)
    assert reply.status == 200  # the headers went out with the first chunk
    chunks = json.loads(reply.body)  # still one valid JSON document
    assert len(chunks) == 2
    assert chunks[0]["candidates"][0]["content"]["parts"] == [{"text": "Hello"}]
    assert chunks[1]["error"]["code"] == 502 and "broke off" in chunks[1]["error"]["message"]


def test_the_sdk_sees_a_stream_broken_after_the_first_chunk(proxy: Proxy) -> None:
    proxy.google.fail("streamGenerateContent", 200, cut_after=1)
    seen: list[str | None] = []
    with proxy.client("v1beta") as client, pytest.raises(genai_errors.ServerError) as info:
        for chunk in client.models.generate_content_stream(model=CUT_SSE_MODEL, contents="hi"):
            seen.append(chunk.text)
    assert seen == ["Hello"]  # never a silent truncation: what came is kept, then the error
    assert info.value.code == 502 and "broke off" in (info.value.message or "")
