"""OpenAI request bodies → hub requests: every field the SDK can send is decided (mapped, ignored with a reason,
or refused by name), thinking per model family, sessions, and the message rules the golden cases do not show."""

from __future__ import annotations

import copy
from typing import Any, get_type_hints

import pytest
from openai.types import completion_create_params
from openai.types.chat import completion_create_params as chat_create_params

from trayagent.errors import BadRequest
from trayagent.translate import openai_chat_request, openai_completions
from trayagent.translate.hub import ClientCall, ClientTarget, session_key
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS

HI = [{"role": "user", "content": "Hi"}]


def chat(body: dict[str, Any], routes: dict[str, str] | None = None, **target: Any) -> ClientCall:
    routed = routes or {}
    return CHAT.parse(
        {"model": "gpt-4o", "messages": HI, **body},
        ClientTarget(upstream_model=lambda name: routed.get(name, name), **target),
    )


def refused(body: dict[str, Any], **target: Any) -> str:
    with pytest.raises(BadRequest) as raised:
        chat(body, **target)
    return raised.value.message


def config(call: ClientCall) -> dict[str, Any]:
    return dict(call.hub.request.get("generationConfig", {}))


@pytest.mark.parametrize(
    ("params", "module"),
    [
        (chat_create_params.CompletionCreateParamsStreaming, openai_chat_request),
        (completion_create_params.CompletionCreateParamsStreaming, openai_completions),
    ],
    ids=["chat", "completions"],
)
def test_every_field_the_sdk_can_send_is_decided(params: type, module: Any) -> None:
    fields = set(get_type_hints(params))
    assert fields - module.ACCEPTED_FIELDS == set()
    # Decided means one of three things, never two.
    mapped, ignored, neutral = module.MAPPED_FIELDS, set(module.IGNORED_FIELDS), set(module.NEUTRAL_VALUES)
    assert not (mapped & ignored or mapped & neutral or ignored & neutral)


def test_ignored_fields_change_nothing_in_the_request() -> None:
    plain = chat({})
    noisy = chat(
        {
            "user": "u-1",
            "safety_identifier": "s-1",
            "metadata": {"a": "b"},
            "store": True,
            "service_tier": "flex",
            "prompt_cache_retention": "24h",
            "prompt_cache_options": {"mode": "implicit"},
            "prediction": {"type": "content", "content": "Hello"},
        }
    )
    assert noisy.hub == plain.hub


def test_neutral_values_are_accepted() -> None:
    body = {
        "logprobs": False,
        "top_logprobs": 0,
        "logit_bias": {},
        "modalities": ["text"],
        "verbosity": "medium",
        "audio": None,
        "web_search_options": None,
        "moderation": None,
    }
    assert chat(body).hub == chat({}).hub


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"verbosity": "high"}, "verbosity"),
        ({"audio": {"voice": "alloy", "format": "mp3"}}, "audio"),
        ({"moderation": {"model": "omni-moderation-latest"}}, "moderation"),
        ({"stop": ["a", "b", "c", "d", "e", "f"]}, "stop"),
        ({"stream_options": {"include_usage": True, "chunk_size": 3}}, "stream_options.chunk_size"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": True}, "n"),
        ({"seed": 1.5}, "seed"),
        ({"top_p": 1.5}, "top_p"),
        ({"tools": [{"type": "function", "function": {"name": "a"}}], "functions": [{"name": "a"}]}, "functions"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"function_call": "auto", "tools": [{"type": "function", "function": {"name": "a"}}]}, "function_call"),
        ({"tools": [{"type": "function", "function": {"name": "a"}}] * 2}, "tools[1]"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "json_schema.name"),
        ({"messages": [{"role": "user", "content": [{"type": "video", "video": {}}]}]}, "content[0].type"),
        ({"messages": [{"role": "user", "content": "x", "weight": 2}]}, "messages[0].weight"),
        ({"messages": [{"role": "assistant", "content": "x", "audio": {"id": "a1"}}]}, "messages[0].audio"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,abc"}}]}]},
            "image_url.url",
        ),
        (
            {
                "messages": [
                    *HI,
                    {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "c", "content": "1"},
                    {"role": "tool", "tool_call_id": "c", "content": "2"},
                ]
            },
            "messages[3].tool_call_id",
        ),
    ],
)
def test_refusals_name_the_field(body: dict[str, Any], named: str) -> None:
    assert named in refused(body)


@pytest.mark.parametrize(
    ("upstream", "effort", "expected"),
    [
        ("gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("gemini-2.5-flash", "none", {"thinkingBudget": 0}),
        ("gemini-3-flash", "minimal", {"thinkingLevel": "MINIMAL", "includeThoughts": True}),
        ("gemini-3-flash", "xhigh", {"thinkingLevel": "HIGH", "includeThoughts": True}),
        ("gemini-3-flash", None, {"includeThoughts": True}),  # the model's own level, thoughts shown
        ("claude-sonnet-4-6-thinking", "high", {"thinkingBudget": 32768, "includeThoughts": True}),
        ("claude-sonnet-4-6-thinking", None, None),  # Claude thinks only when asked
        ("gemini-3-pro-image", "high", None),  # image models take no thinking settings
    ],
)
def test_reasoning_effort_per_model_family(upstream: str, effort: str | None, expected: Any) -> None:
    call = chat({"reasoning_effort": effort} if effort else {}, routes={"gpt-4o": upstream})
    assert config(call).get("thinkingConfig") == expected


def test_max_tokens_are_clamped_to_the_model_and_kept_above_the_budget() -> None:
    routes = {"gpt-4o": "gemini-2.5-flash"}
    assert config(chat({"max_completion_tokens": 200_000}, routes))["maxOutputTokens"] == 65_536
    assert config(chat({"max_tokens": 100, "max_completion_tokens": 50}, routes))["maxOutputTokens"] == 50
    high = config(chat({"max_tokens": 1000, "reasoning_effort": "high"}, routes))
    assert high["maxOutputTokens"] > high["thinkingConfig"]["thinkingBudget"]


def test_the_session_is_the_clients_conversation_key_never_the_user() -> None:
    by_text = chat({}).hub.session_key
    assert by_text == session_key("Hi")
    assert chat({"user": "ann"}).hub.session_key == by_text  # a person is not a conversation
    assert chat({}, headers={"session-id": "s-1"}).hub.session_key == session_key(None, "s-1")
    assert chat({"prompt_cache_key": "k-1"}, headers={"session-id": "s-1"}).hub.session_key == session_key(None, "k-1")


def test_turns_of_one_role_merge_and_empty_turns_vanish() -> None:
    call = chat(
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "system", "content": "be terse"},
                {"role": "user", "content": [{"type": "text", "text": "b"}]},
                {"role": "assistant", "content": None},
                {"role": "assistant", "content": ""},
                {"role": "user", "content": "c"},
            ]
        }
    )
    assert call.hub.request["contents"] == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}]
    assert call.hub.request["systemInstruction"] == {"parts": [{"text": "be terse"}]}


def test_tool_results_match_their_calls_by_id_wherever_they_stand() -> None:
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "read", "arguments": '{"p": 1}'}},
        {"id": "c2", "type": "function", "function": {"name": "list", "arguments": ""}},
    ]
    call = chat(
        {
            "messages": [
                *HI,
                {"role": "assistant", "content": "Looking.", "tool_calls": calls},
                {
                    "role": "tool",
                    "tool_call_id": "c2",
                    "content": [{"type": "text", "text": '["x", '}, {"type": "text", "text": '"y"]'}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "plain text"},
                {"role": "user", "content": "Thanks"},
            ]
        }
    )
    model, results = call.hub.request["contents"][1:]
    assert model["parts"] == [
        {"text": "Looking."},
        {"functionCall": {"name": "read", "args": {"p": 1}, "id": "c1"}},
        {"functionCall": {"name": "list", "args": {}, "id": "c2"}},
    ]
    assert results["parts"] == [
        {"functionResponse": {"name": "list", "id": "c2", "response": {"result": ["x", "y"]}}},
        {"functionResponse": {"name": "read", "id": "c1", "response": {"result": "plain text"}}},
        {"text": "Thanks"},
    ]


def test_the_body_is_not_changed_by_parsing() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [*HI, {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]}, *HI],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        "tools": [{"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}}],
    }
    before = copy.deepcopy(body)
    CHAT.parse(body, ClientTarget())
    assert body == before


def test_completions_prompt_and_fields() -> None:
    call = COMPLETIONS.parse(
        {"model": "m", "prompt": ["Say"], "n": 3, "best_of": 3, "max_tokens": 7, "seed": 1, "echo": False},
        ClientTarget(),
    )
    assert call.hub.request == {
        "contents": [{"role": "user", "parts": [{"text": "Say"}]}],
        "generationConfig": {"candidateCount": 3, "seed": 1, "maxOutputTokens": 7},
    }
    with pytest.raises(BadRequest, match="stream_options"):
        COMPLETIONS.parse({"model": "m", "prompt": "x", "stream_options": []}, ClientTarget())


@pytest.mark.parametrize("role", ["system", "developer", "user", "assistant"])
@pytest.mark.parametrize("content", ["", "some text"])
def test_a_plain_message_reads_the_same_on_the_short_path_as_on_the_general_reader(role: str, content: str) -> None:
    from trayagent.translate.openai_messages import convert

    plain = {"role": role, "content": content}  # a role and a string: the short path
    named = {**plain, "name": "someone"}  # `name` is accepted and not forwarded: the general reader
    opening = {"role": "user", "content": "first"}
    short, general = convert([opening, plain]), convert([opening, named])
    assert (short.contents, short.system) == (general.contents, general.system)
