"""The OpenAI legacy completions front end (`POST /v1/completions`): `COMPLETIONS`. The prompt becomes one
user turn; the reply is a `text_completion` (streamed as `text_completion` chunks), thinking left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trayagent.errors import ProxyError
from trayagent.translate.error_shapes import render_openai_error
from trayagent.translate.hub import (
    ClientCall,
    ClientProtocol,
    ClientTarget,
    HubRequest,
    ReplyIds,
    StreamEncoder,
    session_key,
)
from trayagent.translate.openai_chat import EVENT_STREAM, echo_of
from trayagent.translate.openai_generation import (
    candidate_count,
    check_fields,
    client_session,
    limit_output,
    opt_bool,
    opt_int,
    refuse,
    require_model,
    sampling_config,
    stream_settings,
)
from trayagent.translate.openai_reply import (
    Ending,
    ReplyEcho,
    ReplyStream,
    answered,
    finish_reason,
    parts_of,
    usage,
)

MAPPED_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "n",
        "stream",
        "stream_options",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "echo",
        "best_of",  # only equal to n: picking the best of more candidates needs log-probabilities
    }
)
IGNORED_FIELDS: Mapping[str, str] = {"user": "an end-user id for OpenAI's abuse monitoring"}
NEUTRAL_VALUES: Mapping[str, tuple[tuple[Any, ...], str]] = {
    "suffix": (("",), "Gemini cannot insert text between a prompt and a suffix"),
    "logprobs": ((), "token log-probabilities are not available from Google's backend here; leave it out"),
    "logit_bias": (({},), "Gemini has no logit bias"),
}
ACCEPTED_FIELDS = MAPPED_FIELDS | IGNORED_FIELDS.keys() | NEUTRAL_VALUES.keys()


def _prompt(body: Mapping[str, Any]) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, list):
        if prompt and all(isinstance(item, str) for item in prompt):
            raise refuse("prompt", f"one prompt per request here, got {len(prompt)}")
        raise refuse("prompt", "token arrays cannot be sent: Gemini's tokenizer is not OpenAI's; send text")
    if not isinstance(prompt, str) or not prompt:
        raise refuse("prompt", "required: a non-empty string")
    return prompt


def parse_completion(body: dict[str, Any], target: ClientTarget) -> ClientCall:
    check_fields(body, ACCEPTED_FIELDS, NEUTRAL_VALUES, "completions")
    model = require_model(body)
    prompt = _prompt(body)
    n = candidate_count(body)
    best_of = opt_int(body, "best_of", 1)
    if best_of is not None and best_of != n:
        raise refuse("best_of", "only equal to n: choosing the best candidates needs log-probabilities")
    config = sampling_config(body, n)
    # Thinking stays out of the text: a completion is the answer alone.
    thinking = limit_output(
        config, target.upstream_model(model), opt_int(body, "max_tokens", 1), include_thoughts=False
    )
    if thinking:
        config["thinkingConfig"] = thinking
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if config:
        request["generationConfig"] = config
    stream, include_usage = stream_settings(body)
    echo = ReplyEcho(model=model, n=n, include_usage=include_usage, prompt=prompt if opt_bool(body, "echo") else None)
    session = session_key(prompt, client_session(body, target))
    return ClientCall(hub=HubRequest(model=model, request=request, session_key=session), stream=stream, echo=echo)


def _texts(candidate: Mapping[str, Any]) -> list[str]:
    return [
        part["text"]
        for part in parts_of(candidate)
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
    ]


def render_completion(echo: ReplyEcho, reply: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    completion_id, created = ids.new("cmpl-"), ids.now()
    found, blocked = answered(reply, echo.n)
    choices = []
    for index, candidate in found:
        ending = Ending()
        ending.observe(candidate)
        text = "".join(_texts(candidate))
        ending.visible = bool(text)
        reason = finish_reason(ending, blocked=blocked)
        choices.append({"text": (echo.prompt or "") + text, "index": index, "logprobs": None, "finish_reason": reason})
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": echo.model,
        "choices": choices,
        "usage": usage(reply.get("usageMetadata")),
    }


class CompletionStream(ReplyStream):
    object_name = "text_completion"

    def __init__(self, echo: ReplyEcho, ids: ReplyIds) -> None:
        super().__init__(echo, ids, "cmpl-")

    def opening(self) -> list[dict[str, Any]]:
        if not self.echo.prompt:
            return []
        return [_choice(index, self.echo.prompt) for index in range(self.echo.n)]

    def part_choices(self, index: int, part: Mapping[str, Any], ending: Ending) -> list[dict[str, Any]]:
        text = part.get("text")
        if not isinstance(text, str) or not text or part.get("thought"):
            return []
        ending.visible = True
        return [_choice(index, text)]

    def final_choice(self, index: int, reason: str) -> dict[str, Any]:
        return _choice(index, "", reason)


def _choice(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish}


class CompletionsFrontend:
    protocol: ClientProtocol = "openai"

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        return parse_completion(body, target)

    def media_type(self, call: ClientCall) -> str:
        return EVENT_STREAM

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder:
        return CompletionStream(echo_of(call), ids)

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        return render_completion(echo_of(call), reply, ids)

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        return render_openai_error(error)


COMPLETIONS = CompletionsFrontend()
