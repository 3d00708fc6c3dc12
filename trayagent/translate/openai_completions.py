"""The OpenAI legacy completions front end (`POST /v1/completions`): `COMPLETIONS`. The prompt becomes one
user turn; the reply is a `text_completion` (streamed as `text_completion` chunks), thinking left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from trayagent.translate.fields import OPENAI_CHAT_FIELDS as FIELDS
from trayagent.translate.fields import refuse
from trayagent.translate.gemini import parts_of
from trayagent.translate.hub import ClientCall, ClientTarget, ReplyIds
from trayagent.translate.openai_generation import Neutral, client_call, limit_output, read_common
from trayagent.translate.openai_reply import Ending, OpenAIFrontend, ReplyEcho, ReplyStream, finish_reason, render_reply

MAPPED_FIELDS: Final = frozenset(
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
IGNORED_FIELDS: Final[Mapping[str, str]] = {"user": "an end-user id for OpenAI's abuse monitoring"}
NEUTRAL_VALUES: Final[Neutral] = {
    "suffix": (("",), "Gemini cannot insert text between a prompt and a suffix"),
    "logprobs": ((), "token log-probabilities are not available from Google's backend here; leave it out"),
    "logit_bias": (({},), "Gemini has no logit bias"),
}
ACCEPTED_FIELDS: Final = MAPPED_FIELDS.union(IGNORED_FIELDS, NEUTRAL_VALUES)  # a frozenset, as its type says


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
    common = read_common(body, ACCEPTED_FIELDS, NEUTRAL_VALUES, "completions")
    prompt = _prompt(body)
    best_of = FIELDS.positive(body, "best_of")
    if best_of is not None and best_of != common.n:
        raise refuse("best_of", "only equal to n: choosing the best candidates needs log-probabilities")
    # Thinking stays out of the text: a completion is the answer alone.
    upstream = target.upstream_model(common.model)
    thinking = limit_output(common.config, upstream, FIELDS.positive(body, "max_tokens"), include_thoughts=False)
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    echo = ReplyEcho(
        model=common.model,
        n=common.n,
        include_usage=common.include_usage,
        prompt=prompt if FIELDS.flag(body, "echo", False) else None,
    )
    return client_call(common, request, thinking, echo, prompt, body, target)


def _texts(candidate: Mapping[str, Any]) -> list[str]:
    return [
        part["text"]
        for part in parts_of(candidate)
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
    ]


def render_completion(echo: ReplyEcho, reply: Mapping[str, Any], ids: ReplyIds) -> dict[str, Any]:
    def choice(index: int, candidate: Mapping[str, Any], blocked: str | None) -> dict[str, Any]:
        ending = Ending()
        ending.observe(candidate)
        text = "".join(_texts(candidate))
        ending.visible = bool(text)
        return _choice(index, (echo.prompt or "") + text, finish_reason(ending, blocked=blocked))

    return render_reply(echo, reply, ids, ("cmpl-", "text_completion"), choice)


class CompletionStream(ReplyStream):
    object_name = "text_completion"

    def __init__(self, echo: ReplyEcho, ids: ReplyIds) -> None:
        super().__init__(echo, ids, "cmpl-")

    def opening(self) -> list[bytes]:
        if not self.echo.prompt:
            return []
        return [orjson.dumps(_choice(index, self.echo.prompt)) for index in range(self.echo.n)]

    def part_choices(self, index: int, part: Mapping[str, Any], ending: Ending) -> list[bytes]:
        text = part.get("text")
        if not isinstance(text, str) or not text or part.get("thought"):
            return []
        return [self.text_choice(index, text, ending)]

    def text_choice(self, index: int, text: str, ending: Ending) -> bytes:
        ending.visible = True
        return b'{"text":%s,"index":%d%s' % (orjson.dumps(text), index, _TEXT_END)

    def final_choice(self, index: int, reason: str) -> bytes:
        return orjson.dumps(_choice(index, "", reason))


_TEXT_END: Final = b',"logprobs":null,"finish_reason":null}'  # a streamed text choice after its index


def _choice(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish}


COMPLETIONS: Final = OpenAIFrontend(parse_completion, CompletionStream, render_completion)
