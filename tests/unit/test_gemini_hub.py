"""The pure pieces around the Gemini hub format: merging streamed chunks, repairing thought signatures,
the conversation key, the signature cache, and the v1internal envelope."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from trayagent.proxy.signatures import SignatureCache, call_key
from trayagent.translate.gemini import (
    SKIP_SIGNATURE,
    CallIds,
    add_turn,
    conversation_key,
    first_candidate,
    first_user_text,
    merge_chunks,
    parts_of,
    repair_signatures,
)
from trayagent.translate.hub import CountingIds, session_key
from trayagent.upstream.generation import count_tokens_body, envelope

# -- merge_chunks ---------------------------------------------------------------------------------


def chunk(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One streamed GenerateContentResponse; candidate fields (finishReason…) go in `candidate`."""
    candidate = {"content": {"role": "model", "parts": list(parts)}, "index": 0, **extra.pop("candidate", {})}
    return {"candidates": [candidate], **extra}


def merged_parts(*chunks: dict[str, Any]) -> list[dict[str, Any]]:
    reply = merge_chunks(list(chunks))
    parts: list[dict[str, Any]] = reply["candidates"][0]["content"]["parts"]
    return parts


def test_text_is_joined() -> None:
    assert merged_parts(chunk({"text": "Hel"}), chunk({"text": "lo"}), chunk({"text": "!"})) == [{"text": "Hello!"}]


def test_text_parts_within_one_chunk_are_joined_too() -> None:
    assert merged_parts(chunk({"text": "a"}, {"text": "b"})) == [{"text": "ab"}]


def test_thought_and_text_are_never_joined() -> None:
    parts = merged_parts(
        chunk({"text": "Let me ", "thought": True}),
        chunk({"text": "think.", "thought": True}),
        chunk({"text": "The answer"}),
        chunk({"text": " is 4."}),
        chunk({"text": "Hmm", "thought": True}),
    )
    assert parts == [
        {"text": "Let me think.", "thought": True},
        {"text": "The answer is 4."},
        {"text": "Hmm", "thought": True},
    ]


def test_a_signature_closes_a_run_and_stays_on_it() -> None:
    # Cloud Code streams thought text first, then the part carrying the signature (often empty text).
    parts = merged_parts(
        chunk({"text": "Let me ", "thought": True}),
        chunk({"text": "think.", "thought": True}),
        chunk({"text": "", "thought": True, "thoughtSignature": "c2lnLTE="}),
        chunk({"text": "more thinking", "thought": True}),
        chunk({"text": "Done"}),
    )
    assert parts == [
        {"text": "Let me think.", "thought": True, "thoughtSignature": "c2lnLTE="},
        {"text": "more thinking", "thought": True},  # nothing is appended to a signed part
        {"text": "Done"},
    ]


def test_two_signed_parts_stay_two() -> None:
    parts = merged_parts(
        chunk({"text": "a", "thought": True, "thoughtSignature": "c2lnLTE="}),
        chunk({"text": "b", "thought": True, "thoughtSignature": "c2lnLTI="}),
        chunk({"text": "x", "thoughtSignature": "c2lnLTM="}),
        chunk({"text": "y"}),
    )
    assert parts == [
        {"text": "a", "thought": True, "thoughtSignature": "c2lnLTE="},
        {"text": "b", "thought": True, "thoughtSignature": "c2lnLTI="},
        {"text": "x", "thoughtSignature": "c2lnLTM="},
        {"text": "y"},
    ]


def test_function_calls_and_inline_data_are_kept_as_they_are() -> None:
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}, "thoughtSignature": "c2ln"}
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    parts = merged_parts(
        chunk({"text": "Calling"}),
        chunk(call),
        chunk({"functionCall": {"name": "get_time", "args": {}}}),
        chunk({"text": "after"}),
        chunk({"text": " call"}, image),
        chunk({"text": "end"}),
    )
    assert parts == [
        {"text": "Calling"},
        call,
        {"functionCall": {"name": "get_time", "args": {}}},
        {"text": "after call"},
        image,
        {"text": "end"},
    ]


def test_a_text_part_with_other_fields_is_not_joined() -> None:
    odd = {"text": "b", "partMetadata": {"k": "v"}}
    assert merged_parts(chunk({"text": "a"}), chunk(odd)) == [{"text": "a"}, odd]


def test_the_last_finish_reason_usage_and_metadata_win() -> None:
    usage_1 = {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6}
    usage_2 = {"promptTokenCount": 5, "candidatesTokenCount": 9, "totalTokenCount": 14, "thoughtsTokenCount": 3}
    reply = merge_chunks(
        [
            chunk({"text": "a"}, usageMetadata=usage_1, modelVersion="v1", responseId="r1"),
            chunk({"text": "b"}, candidate={"finishReason": "MAX_TOKENS"}),
            chunk({"text": "c"}, usageMetadata=usage_2, candidate={"finishReason": "STOP"}, responseId="r2"),
        ]
    )
    assert reply["usageMetadata"] == usage_2
    assert reply["responseId"] == "r2" and reply["modelVersion"] == "v1"
    assert reply["candidates"] == [
        {"finishReason": "STOP", "index": 0, "content": {"role": "model", "parts": [{"text": "abc"}]}}
    ]


def test_a_usage_only_last_chunk() -> None:
    usage = {"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3}
    reply = merge_chunks([chunk({"text": "hi"}, candidate={"finishReason": "STOP"}), {"usageMetadata": usage}])
    assert reply["usageMetadata"] == usage
    assert reply["candidates"][0]["finishReason"] == "STOP"
    assert reply["candidates"][0]["content"]["parts"] == [{"text": "hi"}]


def test_empty_input() -> None:
    assert merge_chunks([]) == {}
    assert merge_chunks([{"usageMetadata": {"totalTokenCount": 0}}]) == {"usageMetadata": {"totalTokenCount": 0}}


def test_a_blocked_prompt_keeps_its_feedback() -> None:
    feedback = {"blockReason": "SAFETY", "safetyRatings": []}
    assert merge_chunks([{"promptFeedback": feedback}]) == {"promptFeedback": feedback}


def test_other_candidates_and_junk_are_skipped() -> None:
    reply = merge_chunks(
        [
            {
                "candidates": [
                    chunk({"text": "a"})["candidates"][0],
                    {"index": 1, "content": {"parts": [{"text": "z"}]}},
                ]
            },
            {"candidates": ["junk", {"content": {"parts": ["junk", {"text": "b"}]}}]},
        ]
    )
    assert reply["candidates"][0]["content"]["parts"] == [{"text": "ab"}]


def test_merging_leaves_the_chunks_untouched() -> None:
    chunks = [
        chunk({"text": "a", "thought": True}),
        chunk({"text": "b", "thought": True, "thoughtSignature": "c2ln"}),
        chunk({"text": "c"}, usageMetadata={"totalTokenCount": 1}),
    ]
    before = copy.deepcopy(chunks)
    merge_chunks(chunks)
    assert chunks == before


# -- repair_signatures ----------------------------------------------------------------------------

HISTORY: dict[str, Any] = {
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "contents": [
        {"role": "user", "parts": [{"text": "weather in Paris?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "thinking", "thought": True, "thoughtSignature": "b2xk"},
                {"text": "Let me look.", "thoughtSignature": "b2xkMg=="},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}},
                {"functionCall": {"name": "get_time", "args": {}}, "thoughtSignature": "b2xkMw=="},
            ],
        },
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}}]},
        {"role": "model", "parts": [{"text": "only thinking", "thought": True}]},
        {"role": "user", "parts": [{"text": "thanks"}]},
    ],
    "generationConfig": {"temperature": 0.2},
}


def test_gemini_gets_the_sentinel_on_signed_parts_and_every_call() -> None:
    assert SKIP_SIGNATURE == "skip_thought_signature_validator"  # the value Gemini accepts (spec/upstream.md)
    before = copy.deepcopy(HISTORY)
    repaired = repair_signatures(HISTORY, "gemini-3-pro-high")
    assert HISTORY == before  # a new request; the original is untouched
    assert list(repaired) == list(HISTORY)  # same keys, same order
    assert repaired["systemInstruction"] == HISTORY["systemInstruction"]
    assert repaired["generationConfig"] == HISTORY["generationConfig"]
    contents = repaired["contents"]
    assert contents[1]["parts"] == [
        {"text": "thinking", "thought": True, "thoughtSignature": SKIP_SIGNATURE},
        {"text": "Let me look.", "thoughtSignature": SKIP_SIGNATURE},
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"},
            "thoughtSignature": SKIP_SIGNATURE,
        },
        {"functionCall": {"name": "get_time", "args": {}}, "thoughtSignature": SKIP_SIGNATURE},
    ]
    assert contents[3] == HISTORY["contents"][3]  # unsigned thoughts stay for Gemini
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    assert contents[2] == HISTORY["contents"][2] and contents[4] == HISTORY["contents"][4]


def test_claude_loses_thinking_and_signatures_and_empty_model_turns() -> None:
    repaired = repair_signatures(HISTORY, "claude-sonnet-4-6-thinking")
    contents = repaired["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "user"]  # the thinking-only turn is gone
    assert contents[1]["parts"] == [
        {"text": "Let me look."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}},
        {"functionCall": {"name": "get_time", "args": {}}},
    ]
    assert SKIP_SIGNATURE not in orjson.dumps(repaired).decode()
    assert "thoughtSignature" not in orjson.dumps(repaired).decode()


def test_repair_without_contents_and_with_junk() -> None:
    assert repair_signatures({"generationConfig": {}}, "gemini-2.5-flash") == {"generationConfig": {}, "contents": []}
    odd = {"contents": ["junk", {"role": "user", "parts": ["junk", {"text": "x"}]}]}
    assert repair_signatures(odd, "gemini-2.5-flash") == odd


# -- first_user_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"contents": [{"role": "user", "parts": [{"text": "hello "}, {"text": "there"}]}]}, "hello there"),
        ({"contents": [{"parts": [{"text": "no role means user"}]}]}, "no role means user"),
        (
            {
                "contents": [
                    {"role": "model", "parts": [{"text": "a model opening"}]},
                    {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": ""}}]},
                    {"role": "user", "parts": [{"text": "first words"}, {"inlineData": {}}]},
                    {"role": "user", "parts": [{"text": "later words"}]},
                ]
            },
            "first words",
        ),
        ({"contents": [{"role": "model", "parts": [{"text": "x"}]}]}, None),
        ({"contents": []}, None),
        ({}, None),
        ({"contents": ["junk", {"role": "user", "parts": "junk"}]}, None),
    ],
)
def test_first_user_text(request_body: dict[str, Any], expected: str | None) -> None:
    assert first_user_text(request_body) == expected


def test_first_user_text_ignores_later_turns() -> None:
    opening = {"role": "user", "parts": [{"text": "plan a trip"}]}
    short = {"contents": [opening]}
    longer = {
        "contents": [
            opening,
            {"role": "model", "parts": [{"text": "sure"}]},
            {"role": "user", "parts": [{"text": "more"}]},
        ]
    }
    assert first_user_text(short) == first_user_text(longer) == "plan a trip"


# -- SignatureCache -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def signed_chunk(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": list(parts)}}]}


def test_call_keys() -> None:
    assert call_key({"id": "call_1", "name": "f", "args": {"a": 1}}) == "call:call_1"
    by_args = call_key({"name": "f", "args": {"a": 1, "b": {"x": 1, "y": [1, 2]}}})
    assert by_args == call_key({"args": {"b": {"y": [1, 2], "x": 1}, "a": 1}, "name": "f"})  # key order ignored
    assert by_args != call_key({"name": "f", "args": {"a": 2, "b": {"x": 1, "y": [1, 2]}}})
    assert by_args != call_key({"name": "g", "args": {"a": 1, "b": {"x": 1, "y": [1, 2]}}})
    assert call_key({"name": "f"}) == call_key({"name": "f", "args": {}}) == call_key({"name": "f", "id": ""})


def test_observe_keeps_call_and_session_signatures() -> None:
    cache = SignatureCache()
    cache.observe(
        signed_chunk(
            {"text": "thinking", "thought": True, "thoughtSignature": "c2lnLTE="},
            {"functionCall": {"name": "f", "args": {"a": 1}, "id": "c1"}, "thoughtSignature": "c2lnLTI="},
            {"functionCall": {"name": "g", "args": {"q": "x"}}, "thoughtSignature": "c2lnLTM="},
            {"functionCall": {"name": "h", "args": {}}},  # unsigned: nothing to keep
            {"text": "no signature"},
            {"text": "empty", "thoughtSignature": ""},
        ),
        "sid-1",
    )
    assert cache.recall("call:c1") == "c2lnLTI="
    assert cache.recall(call_key({"name": "g", "args": {"q": "x"}})) == "c2lnLTM="
    assert cache.recall(call_key({"name": "h", "args": {}})) is None
    assert cache.recall("session:sid-1") == "c2lnLTM="  # the last one seen in the conversation
    assert len(cache) == 3


def test_observe_without_a_session_and_on_junk() -> None:
    cache = SignatureCache()
    cache.observe(signed_chunk({"text": "t", "thoughtSignature": "c2ln"}), None)
    cache.observe({"candidates": ["junk", {"content": None}, {"content": {"parts": ["junk"]}}]}, "s")
    cache.observe({"candidates": [{"content": ["junk"]}, {"content": "junk"}], "usageMetadata": {}}, "s")
    cache.observe({"usageMetadata": {}}, "s")
    assert len(cache) == 0


def test_entries_expire() -> None:
    clock = Clock()
    cache = SignatureCache(ttl_s=60, now=clock)
    cache.remember("call:a", "c2ln")
    clock.now += 59.9
    assert cache.recall("call:a") == "c2ln"
    clock.now += 0.1
    assert cache.recall("call:a") is None
    assert len(cache) == 0  # an expired entry is dropped once seen


def test_remembering_again_renews_the_time_to_live() -> None:
    clock = Clock()
    cache = SignatureCache(ttl_s=60, now=clock)
    cache.remember("session:s", "b2xk")
    clock.now += 50
    cache.remember("session:s", "bmV3")
    clock.now += 50
    assert cache.recall("session:s") == "bmV3"


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = SignatureCache(max_entries=3)
    for key in ("a", "b", "c"):
        cache.remember(key, f"sig-{key}")
    assert cache.recall("a") == "sig-a"  # a conversation still going: "a" is in use
    cache.remember("d", "sig-d")
    assert len(cache) == 3
    assert cache.recall("b") is None  # the least recently used went first
    assert [cache.recall(key) for key in ("a", "c", "d")] == ["sig-a", "sig-c", "sig-d"]
    cache.remember("c", "sig-c2")  # rewriting counts as use
    cache.remember("e", "sig-e")
    assert cache.recall("a") is None
    assert [cache.recall(key) for key in ("c", "d", "e")] == ["sig-c2", "sig-d", "sig-e"]


# -- envelope and countTokens body ----------------------------------------------------------------

REQUEST: dict[str, Any] = {
    "generationConfig": {"temperature": 0.1},
    "model": "models/gemini-2.5-flash",
    "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {}}}]}],
    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    "systemInstruction": {"parts": [{"text": "sys"}]},
}


def test_envelope() -> None:
    before = copy.deepcopy(REQUEST)
    body = orjson.loads(envelope("proj-1", "gemini-2.5-flash", REQUEST, "sid-abc"))
    assert REQUEST == before
    assert list(body) == ["project", "model", "userAgent", "requestType", "requestId", "request"]
    assert body["project"] == "proj-1" and body["model"] == "gemini-2.5-flash"
    assert body["userAgent"] == "antigravity" and body["requestType"] == "agent"
    assert isinstance(body["requestId"], str) and body["requestId"]
    inner = body["request"]
    assert list(inner) == ["generationConfig", "tools", "contents", "safetySettings", "systemInstruction", "sessionId"]
    assert inner["sessionId"] == "sid-abc"
    assert {key: value for key, value in inner.items() if key != "sessionId"} == {
        key: value for key, value in REQUEST.items() if key != "model"
    }


def test_every_envelope_has_its_own_request_id() -> None:
    ids = {orjson.loads(envelope("p", "gemini-2.5-flash", REQUEST, "s"))["requestId"] for _ in range(50)}
    assert len(ids) == 50


def test_a_session_id_from_the_client_is_replaced_in_place() -> None:
    request = {"contents": [], "sessionId": "client-chose", "generationConfig": {}}
    inner = orjson.loads(envelope("p", "gemini-2.5-flash", request, "ours"))["request"]
    assert list(inner.items()) == [("contents", []), ("sessionId", "ours"), ("generationConfig", {})]


@pytest.mark.parametrize(
    ("model", "request_type"),
    [
        ("gemini-3-pro-image", "image_gen"),
        ("gemini-2.5-flash-image-preview", "image_gen"),
        ("gemini-3-pro-high", "agent"),
    ],
)
def test_image_models_ask_for_image_generation(model: str, request_type: str) -> None:
    assert orjson.loads(envelope("p", model, REQUEST, "s"))["requestType"] == request_type


def test_count_tokens_body() -> None:
    before = copy.deepcopy(REQUEST)
    body = orjson.loads(count_tokens_body(REQUEST))
    assert REQUEST == before
    assert list(body) == ["request"]  # project or model at the top are refused by the backend
    assert list(body["request"]) == ["generationConfig", "tools", "contents", "systemInstruction"]
    assert body["request"]["contents"] == REQUEST["contents"]


def test_turns_of_one_role_merge_and_empty_ones_are_dropped() -> None:
    contents: list[dict[str, Any]] = []
    add_turn(contents, "user", [{"text": "a"}])
    add_turn(contents, "user", [{"text": "b"}])
    add_turn(contents, "model", [])
    add_turn(contents, "model", [{"text": "c"}])
    assert contents == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
        {"role": "model", "parts": [{"text": "c"}]},
    ]


def test_candidate_zero_and_its_object_parts_are_read() -> None:
    reply = {
        "candidates": [
            {"index": 1, "content": {"parts": [{"text": "x"}]}},
            {"content": {"parts": ["junk", {"text": "y"}]}},
        ]
    }
    assert parts_of(first_candidate(reply)) == [{"text": "y"}]
    assert first_candidate({}) == {} and parts_of({"content": "junk"}) == []


def test_call_ids_keep_google_s_unless_already_used_in_the_reply() -> None:
    ids = CallIds(CountingIds())
    assert [ids.take({"id": "a"}), ids.take({"id": "a"}), ids.take({}), ids.take({"id": ""})] == [
        "a",
        "call_0001",
        "call_0002",
        "call_0003",
    ]


@pytest.mark.parametrize("client_id", ["thread-7", None, "", "   "])
def test_the_conversation_key_is_the_session_key_of_the_client_id_or_else_the_first_user_text(
    client_id: str | None,
) -> None:
    request = {"contents": [{"role": "model", "parts": [{"text": "x"}]}, {"role": "user", "parts": [{"text": "hi"}]}]}
    assert conversation_key(request, client_id) == session_key("hi", client_id)
    assert conversation_key({"contents": []}, client_id) == session_key(None, client_id)
