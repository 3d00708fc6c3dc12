"""The response store's bounds (count, total size, age) on a fake clock, what it refuses to keep, and the stored
conversation listed as OpenAI lists input items."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from trayagent.errors import BadRequest
from trayagent.proxy.responsestore import ResponseStore
from trayagent.translate.hub import StoredReply
from trayagent.translate.openai_responses_items import check_retrieve, input_items


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reply(reply_id: str, status: str = "completed", text: str = "hi") -> dict[str, Any]:
    message = {"id": "msg_" + reply_id, "type": "message", "role": "assistant", "status": status,
               "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    return {"id": reply_id, "object": "response", "status": status, "output": [message]}


QUESTION = ({"role": "user", "content": "hello"},)


def test_a_completed_or_incomplete_reply_is_kept_and_a_failed_one_is_not() -> None:
    store = ResponseStore()
    assert store.keep(reply("resp_a"), QUESTION)
    assert store.keep(reply("resp_b", "incomplete"), QUESTION)
    assert not store.keep(reply("resp_c", "failed"), QUESTION)
    assert not store.keep({"status": "completed"}, QUESTION)  # no id
    found = store.get("resp_a")
    assert found == StoredReply(reply("resp_a"), QUESTION)
    assert store.get("resp_b") is not None and store.get("resp_c") is None and len(store) == 2


def test_past_the_count_the_least_recently_used_goes() -> None:
    store = ResponseStore(max_entries=2)
    store.keep(reply("resp_1"), QUESTION)
    store.keep(reply("resp_2"), QUESTION)
    assert store.get("resp_1") is not None  # read back: now the most recent
    store.keep(reply("resp_3"), QUESTION)
    assert [store.get(i) is not None for i in ("resp_1", "resp_2", "resp_3")] == [True, False, True]


def test_the_total_size_is_bounded_and_counted_back_on_eviction() -> None:
    one = len(orjson.dumps(QUESTION)) + len(orjson.dumps(reply("resp_1")))
    store = ResponseStore(max_bytes=2 * one + 10)
    for index in range(1, 4):
        store.keep(reply(f"resp_{index}"), QUESTION)
    assert len(store) == 2 and store.size == 2 * one and store.get("resp_1") is None
    assert store.delete("resp_2") and store.size == one
    assert not store.delete("resp_2")


def test_an_entry_larger_than_the_whole_store_is_not_kept_and_evicts_nothing() -> None:
    store = ResponseStore(max_bytes=2000)
    store.keep(reply("resp_small"), QUESTION)
    assert not store.keep(reply("resp_big", text="x" * 5000), QUESTION)
    assert store.get("resp_big") is None and store.get("resp_small") is not None


def test_an_entry_expires_after_its_age_even_when_read_often() -> None:
    clock = Clock()
    store = ResponseStore(ttl_s=60, now=clock)
    store.keep(reply("resp_old"), QUESTION)
    clock.now += 50
    assert store.get("resp_old") is not None
    clock.now += 11
    assert store.get("resp_old") is None and len(store) == 0 and store.size == 0


def test_keeping_sweeps_expired_entries_from_the_least_recent_end() -> None:
    clock = Clock()
    store = ResponseStore(ttl_s=60, now=clock)
    store.keep(reply("resp_old"), QUESTION)
    clock.now += 61
    store.keep(reply("resp_new"), QUESTION)
    assert len(store) == 1 and store.get("resp_new") is not None


def test_the_same_id_kept_again_replaces_its_entry() -> None:
    store = ResponseStore()
    store.keep(reply("resp_x", text="first"), QUESTION)
    size = store.size
    store.keep(reply("resp_x", text="later"), QUESTION)
    found = store.get("resp_x")
    assert found is not None and found.reply["output"][0]["content"][0]["text"] == "later"
    assert len(store) == 1 and store.size == size


CONVERSATION = StoredReply(
    reply("resp_2"),
    (
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "snow"},
        {"role": "assistant", "content": "Snow."},
    ),
)


def test_input_items_are_listed_in_openais_shape_newest_first() -> None:
    page = input_items(CONVERSATION, {})
    assert [item["id"] for item in page["data"]] == ["item_4", "item_3", "fc_1", "item_1", "item_0"]
    assert page["data"][-1] == {"type": "message", "id": "item_0", "role": "developer", "status": "completed",
                                "content": [{"type": "input_text", "text": "Be brief."}]}  # fmt: skip
    assert page["data"][0]["content"] == [{"type": "output_text", "text": "Snow.", "annotations": []}]
    assert page["data"][1]["status"] == "completed"
    assert (page["first_id"], page["last_id"], page["has_more"]) == ("item_4", "item_0", False)
    assert CONVERSATION.conversation[0] == {"role": "developer", "content": "Be brief."}  # listed, not changed


def test_input_items_page_with_limit_order_and_after() -> None:
    first = input_items(CONVERSATION, {"order": "asc", "limit": "2"})
    assert [item["id"] for item in first["data"]] == ["item_0", "item_1"] and first["has_more"]
    rest = input_items(CONVERSATION, {"order": "asc", "limit": "2", "after": "item_1"})
    assert [item["id"] for item in rest["data"]] == ["fc_1", "item_3"] and rest["has_more"]
    last = input_items(CONVERSATION, {"order": "asc", "after": "item_3"})
    assert [item["id"] for item in last["data"]] == ["item_4"] and not last["has_more"]


@pytest.mark.parametrize(
    ("query", "param"),
    [({"limit": "0"}, "limit"), ({"limit": "many"}, "limit"), ({"order": "up"}, "order"), ({"after": "x"}, "after")],
)
def test_a_bad_listing_query_is_a_400_naming_the_parameter(query: dict[str, str], param: str) -> None:
    with pytest.raises(BadRequest) as raised:
        input_items(CONVERSATION, query)
    assert raised.value.param == param and raised.value.message.startswith(param + ": ")


def test_a_stored_response_is_not_read_back_as_a_stream() -> None:
    check_retrieve({"stream": "false", "include": "reasoning.encrypted_content"})
    with pytest.raises(BadRequest) as raised:
        check_retrieve({"stream": "true"})
    assert raised.value.param == "stream"
