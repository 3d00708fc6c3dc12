"""Request field readers and each protocol's wording of their errors (translate/fields.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trayagent.errors import BadRequest
from trayagent.translate.fields import (
    ANTHROPIC_FIELDS,
    OPENAI_CHAT_FIELDS,
    OPENAI_RESPONSES_FIELDS,
    Fields,
    at,
    kind_of,
)


def refused(read: Callable[[], Any]) -> str:
    with pytest.raises(BadRequest) as caught:
        read()
    return caught.value.message


def test_paths_are_spelled_as_openai_does() -> None:
    assert at("", "model") == "model"
    assert at(at(at("messages", 2), "content"), 0) == "messages[2].content[0]"


def test_each_protocol_words_the_same_mistake_its_own_way() -> None:
    body = {"stream": "yes", "temperature": 3}
    assert (
        refused(lambda: OPENAI_CHAT_FIELDS.flag(body, "stream", False)) == "stream: expected true or false, got 'yes'"
    )
    assert refused(lambda: OPENAI_RESPONSES_FIELDS.flag(body, "stream", False)) == "stream: expected true or false"
    assert refused(lambda: ANTHROPIC_FIELDS.flag(body, "stream", False)) == "stream: expected a boolean"
    assert refused(lambda: OPENAI_CHAT_FIELDS.number(body, "temperature", 0, 2)) == (
        "temperature: expected a number from 0 to 2, got 3"
    )
    assert refused(lambda: ANTHROPIC_FIELDS.number(body, "temperature", 0, 1)) == (
        "temperature: expected a number from 0 to 1"
    )


def test_a_wrong_type_is_shown_by_its_kind() -> None:
    assert refused(lambda: OPENAI_CHAT_FIELDS.as_dict([1], "tools[0]")) == "tools[0]: expected an object, got an array"
    assert refused(lambda: OPENAI_CHAT_FIELDS.as_str(None, "a.b")) == "a.b: expected a string, got null"
    assert [kind_of(value) for value in (True, 1.5, "x", {})] == ["a boolean", "a number", "a string", "an object"]


def test_absent_and_null_keys_take_the_default_but_a_present_one_is_checked() -> None:
    fields = Fields()
    assert fields.flag({}, "store", True) is True
    assert fields.flag({"store": None}, "store", True) is True
    assert fields.flag({"store": False}, "store", True) is False
    assert fields.optional_str({"key": None}, "key") is None
    assert fields.optional_dict({}, "reasoning") is None
    assert fields.string({}, "thinking", "messages.0", "") == ""
    assert refused(lambda: fields.string({"thinking": None}, "thinking", "messages.0", "")) == (
        "messages.0.thinking: expected a string"
    )


def test_positive_integers_and_required_ones() -> None:
    fields = Fields()
    assert fields.positive({"top_k": 40}, "top_k") == 40
    assert fields.positive({}, "top_k") is None
    for value in (0, -1, 1.5, True, "3"):
        assert refused(lambda value=value: fields.positive({"top_k": value}, "top_k")) == (
            "top_k: expected a positive integer"
        )
    assert refused(lambda: fields.positive({}, "budget_tokens", "thinking", required=True)) == (
        "thinking.budget_tokens: expected a positive integer"
    )


def test_non_empty_strings_and_unknown_keys_name_the_field() -> None:
    fields = Fields()
    assert fields.non_empty({"id": "call_1"}, "id", "input[1]") == "call_1"
    assert refused(lambda: fields.non_empty({"id": ""}, "id", "input[1]")) == "input[1].id: expected a non-empty string"
    assert refused(lambda: fields.check_keys({"format": {}, "size": 3}, ("format",), "text")) == (
        "text.size: unsupported field"
    )
    assert "not part of OpenAI's API" in refused(lambda: OPENAI_CHAT_FIELDS.check_keys({"x": 1}, (), "file"))
