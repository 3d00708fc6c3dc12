"""The OpenAI request fields chat and legacy completions share: sampling and limits → Gemini's
generationConfig, streaming options, the conversation key (fields read with fields.OPENAI_CHAT_FIELDS)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final, NamedTuple

from trayagent.translate import thinking
from trayagent.translate.fields import OPENAI_CHAT_FIELDS as FIELDS
from trayagent.translate.fields import at, refuse
from trayagent.translate.hub import ClientCall, ClientTarget, HubRequest, session_key

MAX_CANDIDATES: Final = 8  # Gemini's candidateCount limit
MAX_STOP_SEQUENCES: Final = 5  # Gemini's stopSequences limit (OpenAI allows 4)
# Where a client names its conversation when it has no `prompt_cache_key` (Codex sends `session-id`).
SESSION_HEADERS: Final = ("session_id", "session-id", "x-session-id")


def require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise refuse("model", "required: the model name")
    return model.strip()


def candidate_count(body: Mapping[str, Any]) -> int:
    n = FIELDS.positive(body, "n")
    if n is not None and n > MAX_CANDIDATES:
        raise refuse("n", f"at most {MAX_CANDIDATES} choices per request (Google's candidateCount limit), got {n}")
    return n or 1


def stream_settings(body: Mapping[str, Any]) -> tuple[bool, bool]:
    """(stream, include_usage). `stream_options` on a non-streamed call is harmless: its usage is always there."""
    stream = FIELDS.flag(body, "stream", False)
    options = body.get("stream_options")
    if options is None:
        return stream, False
    options = FIELDS.as_dict(options, "stream_options")
    # include_obfuscation pads deltas against a side channel of OpenAI's own network; nothing to pad here.
    FIELDS.check_keys(options, ("include_usage", "include_obfuscation"), "stream_options")
    return stream, FIELDS.flag(options, "include_usage", False)


def _stop_sequences(body: Mapping[str, Any]) -> list[str] | None:
    stop = body.get("stop")
    if stop is None:
        return None
    if isinstance(stop, str):
        return [stop] if stop else None
    items = FIELDS.as_list(stop, "stop")
    if len(items) > MAX_STOP_SEQUENCES:
        raise refuse("stop", f"at most {MAX_STOP_SEQUENCES} sequences (Google's limit), got {len(items)}")
    sequences = [FIELDS.as_str(item, at("stop", i)) for i, item in enumerate(items)]
    return [s for s in sequences if s] or None


# Sampling fields most requests leave out: when none is there, sampling_config stops after top_p.
_RARE_SAMPLING: Final = frozenset({"top_k", "stop", "presence_penalty", "frequency_penalty", "seed"})


def sampling_config(body: Mapping[str, Any], n: int) -> dict[str, Any]:
    """temperature, top_p, top_k, n, stop, penalties and seed as Gemini names them (key order fixed)."""
    config: dict[str, Any] = {}
    for key, name, low, high in (
        ("temperature", "temperature", 0.0, 2.0),
        ("top_p", "topP", 0.0, 1.0),
    ):
        value = FIELDS.number(body, key, low, high)
        if value is not None:
            config[name] = value
    if _RARE_SAMPLING.isdisjoint(body):
        if n > 1:
            config["candidateCount"] = n
        return config
    top_k = FIELDS.positive(body, "top_k")  # not OpenAI's, but many OpenAI-style clients send it and Gemini has it
    if top_k is not None:
        config["topK"] = top_k
    if n > 1:
        config["candidateCount"] = n
    stop = _stop_sequences(body)
    if stop:
        config["stopSequences"] = stop
    for key, name in (("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")):
        value = FIELDS.number(body, key, -2.0, 2.0)
        if value is not None:
            config[name] = value
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise refuse("seed", f"expected an integer, got {seed!r}")
        config["seed"] = seed
    return config


def limit_output(
    config: dict[str, Any],
    upstream_model: str,
    requested: int | None,
    *,
    effort: thinking.Effort | None = None,
    include_thoughts: bool = True,
) -> dict[str, Any] | None:
    """maxOutputTokens (clamped to the model, kept above any thinking budget) into `config`; the
    thinkingConfig for the effort, returned so the caller places it last. `requested` is OpenAI's cap on all
    the model writes, reasoning included: an effort's budget takes at most half of it."""
    settings = thinking.thinking_config(
        upstream_model, effort=effort, include_thoughts=include_thoughts, output_cap=requested
    )
    thinking.set_output_limit(config, upstream_model, requested, settings)
    return settings


def client_session(body: Mapping[str, Any], target: ClientTarget) -> str | None:
    """The client's own name for the conversation: `prompt_cache_key` (OpenAI's key for exactly this: requests
    sharing a prefix), else a session header. `user` is deliberately not one: it names a person, and every
    conversation of a person pinned to one account would defeat the pool's rotation."""
    key = body.get("prompt_cache_key")
    if key is not None:
        key = FIELDS.as_str(key, "prompt_cache_key")
        if key.strip():
            return key
    for name in SESSION_HEADERS:
        value = target.headers.get(name)
        if value and value.strip():
            return value
    return None


class Common(NamedTuple):
    """What chat and legacy completions read alike: checked fields, the model, n, sampling, streaming."""

    model: str
    n: int
    config: dict[str, Any]  # generationConfig so far (sampling); the endpoint adds limits, format, thinking
    stream: bool
    include_usage: bool


# A field OpenAI has and Google cannot honour → (the values that ask for nothing, why any other is refused).
Neutral = Mapping[str, tuple[tuple[Any, ...], str]]


def read_common(body: Mapping[str, Any], accepted: AbstractSet[str], neutral: Neutral, endpoint: str) -> Common:
    """Unknown top-level fields and `neutral` fields at a value that asks for something are refused first."""
    if not body.keys() <= accepted:  # the usual body has only accepted fields: one set comparison
        for key in body:
            if key not in accepted:
                raise refuse(key, f"unknown field (not an OpenAI {endpoint} field this proxy can honour)")
    if not neutral.keys().isdisjoint(body):  # most bodies carry none of them
        for key, (allowed, why) in neutral.items():
            value = body.get(key)
            if value is not None and value not in allowed:
                raise refuse(key, why)
    model = require_model(body)
    n = candidate_count(body)
    stream, include_usage = stream_settings(body)
    return Common(model, n, sampling_config(body, n), stream, include_usage)


def client_call(
    common: Common,
    request: dict[str, Any],
    thinking_settings: dict[str, Any] | None,
    echo: Any,
    first_text: str | None,
    body: Mapping[str, Any],
    target: ClientTarget,
) -> ClientCall:
    """The ClientCall: thinkingConfig last in generationConfig, generationConfig last in the request."""
    config = common.config
    if thinking_settings:
        config["thinkingConfig"] = thinking_settings
    if config:
        request["generationConfig"] = config
    session = session_key(first_text, client_session(body, target))
    hub = HubRequest(model=common.model, request=request, session_key=session)
    return ClientCall(hub=hub, stream=common.stream, echo=echo)
