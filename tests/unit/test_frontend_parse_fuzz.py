"""Every front end's parse, fuzzed as a plain function call: the golden cases' client bodies with one value
somewhere replaced by any JSON value (an unhashable list or object where a string is read, above all).

Whatever comes in, parse gives a ClientCall or raises a ProxyError (the client's 400, in its own shape), never
another exception, which the relay would answer with a 500. Fast enough for many examples; the integration
fuzzer (tests/integration/test_fuzz_protocols.py) does the same over HTTP with fewer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import Case, cases, target_of
from trayagent.errors import BadRequest, ProxyError
from trayagent.translate.anthropic import COUNT_TOKENS, MESSAGES
from trayagent.translate.gemini import GEMINI
from trayagent.translate.hub import ClientTarget, Frontend
from trayagent.translate.openai_chat import CHAT
from trayagent.translate.openai_completions import COMPLETIONS
from trayagent.translate.openai_responses import RESPONSES

FRONTENDS: dict[str, Frontend] = {
    "openai_chat": CHAT,
    "openai_completions": COMPLETIONS,
    "openai_responses": RESPONSES,
    "anthropic": MESSAGES,
    "anthropic_count_tokens": COUNT_TOKENS,
    "gemini": GEMINI,
}
SEEDS: list[tuple[Frontend, Case]] = [(FRONTENDS[folder], case) for folder in FRONTENDS for case in cases(folder)]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
ODD = st.sampled_from([[], ["user"], {}, {"a": 1}, None, 0, True, "", "x" * 3]) | JSON


def locations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value a value can be put: each key and index, nested."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += locations(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += locations(inner, (*path, index))
    return found


def replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(body)
    holder = out
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return out


def test_there_are_seeds_for_every_front_end() -> None:
    assert {folder for folder in FRONTENDS if cases(folder)} == set(FRONTENDS)


@pytest.mark.timeout(120)
@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_body_is_parsed_or_refused_never_crashes(data: st.DataObject) -> None:
    frontend, case = data.draw(st.sampled_from(SEEDS), label="seed")
    body = case.read("client.json")
    # Not the body itself: the relay hands a front end only a JSON object (anything else is refused before).
    path = data.draw(st.sampled_from(locations(body)[1:]), label="path")
    mutated = replaced(body, path, data.draw(ODD, label="value"))
    try:
        frontend.parse(mutated, target_of(case))
    except ProxyError:
        pass  # the client's 400 (or whatever status), rendered in its protocol's shape by the relay


def test_an_unhashable_chat_role_is_the_client_s_400() -> None:
    """Found by the test above: a role that is a list once reached a set lookup on the plain-message path."""
    with pytest.raises(BadRequest, match=r"messages\[0\]\.role"):
        CHAT.parse({"model": "gemini-2.5-flash", "messages": [{"role": ["user"], "content": "x"}]}, ClientTarget())
