"""The official openai, anthropic and google-genai SDKs against an in-process proxy: typed errors they understand."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.inprocess import InProcessProxy

KEY = "sk-sdk-test-0123456789"
NO_ACCOUNT = "no Google account yet: run `trayagent accounts login`"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with InProcessProxy(tmp_path_factory.mktemp("sdk"), None, key=KEY) as proxy:  # strict auth, no account
        yield proxy.base


def openai_client(base: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=10)


def anthropic_client(base: str, key: str = KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key=key, max_retries=0, timeout=10)


def genai_client(base: str, key: str = KEY) -> genai.Client:
    options = genai_types.HttpOptions(
        base_url=base, timeout=10_000, retry_options=genai_types.HttpRetryOptions(attempts=1)
    )
    return genai.Client(api_key=key, http_options=options)


MESSAGES: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_sdk(base: str, stream: bool) -> None:
    with openai_client(base) as client, openai_client(base, "sk-wrong-000000") as wrong:
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, stream=stream)
        assert info.value.status_code == 424
        assert NO_ACCOUNT in info.value.message
        assert info.value.code == "no_usable_account"

        with pytest.raises(openai.AuthenticationError) as auth:
            wrong.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, stream=stream)
        assert auth.value.status_code == 401 and auth.value.code == "invalid_api_key"

        with pytest.raises(openai.APIStatusError):
            client.responses.create(model="gemini-2.5-flash", input="hi", stream=stream)
        with pytest.raises(openai.APIStatusError):
            client.completions.create(model="gemini-2.5-flash", prompt="hi", stream=stream)
        assert "gemini-2.5-flash" in [model.id for model in client.models.list()]


@pytest.mark.timeout(60)
def test_openai_sdk_async(base: str) -> None:
    async def call() -> None:
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0, timeout=10)
        try:
            with pytest.raises(openai.APIStatusError) as info:
                await client.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES, stream=True)
            assert NO_ACCOUNT in info.value.message
        finally:
            await client.close()

    asyncio.run(call())


@pytest.mark.timeout(60)
def test_openai_sdk_sees_a_404_with_the_base_url_hint(base: str) -> None:
    with openai.OpenAI(base_url=base, api_key=KEY, max_retries=0, timeout=10) as client:  # forgot /v1
        with pytest.raises(openai.NotFoundError) as info:
            client.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    assert f"OpenAI clients use the base URL {base}/v1" in info.value.message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_sdk(base: str, stream: bool) -> None:
    with anthropic_client(base) as client, anthropic_client(base, "sk-wrong-000000") as wrong:
        with pytest.raises(anthropic.APIStatusError) as info:
            client.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=16,
                messages=[{"role": "user", "content": "hi"}],
                stream=stream,
            )
        assert info.value.status_code == 424
        body = info.value.body
        assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "api_error"
        assert NO_ACCOUNT in info.value.message

        with pytest.raises(anthropic.AuthenticationError) as auth:
            wrong.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=16,
                messages=[{"role": "user", "content": "hi"}],
                stream=stream,
            )
        assert auth.value.status_code == 401
        assert isinstance(auth.value.body, dict) and auth.value.body["error"]["type"] == "authentication_error"


@pytest.mark.timeout(60)
def test_anthropic_sdk_count_tokens_and_async(base: str) -> None:
    with anthropic_client(base) as client, pytest.raises(anthropic.APIStatusError):
        client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}])

    async def call() -> None:
        client = anthropic.AsyncAnthropic(base_url=base, api_key=KEY, max_retries=0, timeout=10)
        try:
            with pytest.raises(anthropic.APIStatusError) as info:
                await client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
                )
            assert NO_ACCOUNT in info.value.message
        finally:
            await client.close()

    asyncio.run(call())


@pytest.mark.timeout(60)
def test_genai_sdk(base: str) -> None:
    client = genai_client(base)
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 424 and info.value.status == "FAILED_PRECONDITION"
    assert NO_ACCOUNT in (info.value.message or "")

    with pytest.raises(genai_errors.ClientError):
        for _ in client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"):
            pass
    with pytest.raises(genai_errors.ClientError):
        client.models.count_tokens(model="gemini-2.5-flash", contents="hi")

    wrong = genai_client(base, "sk-wrong-000000")
    with pytest.raises(genai_errors.ClientError) as auth:
        wrong.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert auth.value.code == 401 and auth.value.status == "UNAUTHENTICATED"
    wrong.close()
    client.close()


@pytest.mark.timeout(60)
def test_genai_sdk_async(base: str) -> None:
    async def call() -> None:
        client = genai_client(base)
        with pytest.raises(genai_errors.ClientError) as info:
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert info.value.code == 424
        with pytest.raises(genai_errors.ClientError):
            async for _ in await client.aio.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"):
                pass
        await client.aio.aclose()
        client.close()

    asyncio.run(call())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("api_version", ["v1", "v1beta"])
def test_genai_sdk_either_api_version(base: str, api_version: str) -> None:
    options = genai_types.HttpOptions(
        base_url=base,
        api_version=api_version,
        timeout=10_000,
        retry_options=genai_types.HttpRetryOptions(attempts=1),
    )
    client = genai.Client(api_key=KEY, http_options=options)
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 424 and NO_ACCOUNT in (info.value.message or "")
    client.close()
