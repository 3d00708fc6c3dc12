"""The rows of `make bench`: one short conversation in each protocol's words, the path it goes to, the headers a
real client adds, and which kind of reply counts as complete (scripts/bench_replies.py checks it).

Every row but `messages-tools` sends the same conversation (a system text, a user turn, a model turn, a user
turn; temperature 0.2, 256 output tokens) to a client model that routes to the same upstream model as the
Gemini-native rows, so a protocol row's req/s against the Gemini row's measures its front end and nothing else.
`messages-tools` is Claude Code's first request: twelve tools, system blocks and a reminder, about 45 KB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_fake import MODEL

REPO = Path(__file__).resolve().parent.parent
CLAUDE_CODE_BODY = REPO / "tests" / "golden" / "anthropic" / "claude_code_first_turn" / "client.json"

SYSTEM = "You are a terse assistant. Answer in one sentence."
TURNS = [
    ("user", "Which animal in the old typing drill jumps?"),
    ("model", "The fox does."),
    ("user", "And what does it jump over? Say it in a few words."),
]
TEMPERATURE = 0.2
MAX_TOKENS = 256
OPENAI_MODEL = "gpt-4o-mini"  # routes to MODEL by the built-in gpt-4o* alias
ANTHROPIC_MODEL = "claude-haiku-4-5"  # routes to MODEL by the built-in claude-*haiku* alias


@dataclass(frozen=True)
class Row:
    """One kind of request: `reply` names the check a reply must pass (a protocol and json/stream)."""

    name: str
    path: str
    body: dict[str, Any]
    reply: str
    against: str  # the Gemini-native row this row's req/s is held against (its own name for those rows)
    headers: list[str] = field(default_factory=list)
    goal: bool = True  # False: the ratio is reported for information only
    about: str = ""

    @property
    def stream(self) -> bool:
        return self.reply.endswith("-stream")

    def data(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


def gemini_body() -> dict[str, Any]:
    role = {"user": "user", "model": "model"}
    return {
        "systemInstruction": {"parts": [{"text": SYSTEM}]},
        "contents": [{"role": role[r], "parts": [{"text": text}]} for r, text in TURNS],
        "generationConfig": {"temperature": TEMPERATURE, "maxOutputTokens": MAX_TOKENS},
    }


def chat_body(stream: bool) -> dict[str, Any]:
    messages = [{"role": "system", "content": SYSTEM}]
    messages += [{"role": "assistant" if r == "model" else "user", "content": text} for r, text in TURNS]
    body: dict[str, Any] = {
        "model": OPENAI_MODEL,
        "messages": messages,
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return body


def responses_body() -> dict[str, Any]:
    """What Codex sends, minus its tools: developer text, input messages, no server-side storage, streamed."""
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": SYSTEM}]}
    ]
    for r, text in TURNS:
        kind = "output_text" if r == "model" else "input_text"
        items.append(
            {
                "type": "message",
                "role": "assistant" if r == "model" else "user",
                "content": [{"type": kind, "text": text}],
            }
        )
    return {
        "model": OPENAI_MODEL,
        "input": items,
        "stream": True,
        "store": False,
        "parallel_tool_calls": False,
        "prompt_cache_key": "bench-thread-1",
        "temperature": TEMPERATURE,
        "max_output_tokens": MAX_TOKENS,
    }


def messages_body(stream: bool) -> dict[str, Any]:
    messages = [{"role": "assistant" if r == "model" else "user", "content": text} for r, text in TURNS]
    body: dict[str, Any] = {
        "model": ANTHROPIC_MODEL,
        "system": SYSTEM,
        "messages": messages,
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        body["stream"] = True
    return body


# Claude Code's texts are long (its capture records their lengths); ours are short, so each is padded to the
# length it has there: a tool's description, the system prompt, the reminder before the prompt.
_TOOL_DESCRIPTION_CHARS = 1600  # the mean over its eleven described tools (240 to 3,500)
_SYSTEM_CHARS = 7000
_REMINDER_CHARS = 9200
_FILLER = "Read the surrounding code first, keep changes small, and say what you changed and why. "


def _padded(text: str, size: int) -> str:
    if len(text) >= size:
        return text
    repeats = (size - len(text)) // len(_FILLER) + 1
    return (text + " " + _FILLER * repeats)[:size]


def claude_code_body() -> dict[str, Any]:
    """The golden Claude Code first turn (our own texts, its shapes), padded to its real size."""
    body: dict[str, Any] = json.loads(CLAUDE_CODE_BODY.read_text())
    for tool in body.get("tools", []):
        if tool.get("description"):
            tool["description"] = _padded(tool["description"], _TOOL_DESCRIPTION_CHARS)
    system = body["system"]
    system[-1]["text"] = _padded(system[-1]["text"], _SYSTEM_CHARS)
    for message in body["messages"]:
        if message["role"] == "system":
            block = message["content"][0]
            block["text"] = _padded(block["text"], _REMINDER_CHARS)
    return body


CLAUDE_CODE_HEADERS = [
    "anthropic-version: 2023-06-01",
    "anthropic-beta: claude-code-20250219,interleaved-thinking-2025-05-14,effort-2025-11-24",
    "x-app: cli",
    "User-Agent: claude-cli/2.1.332 (external, sdk-cli)",
    "X-Claude-Code-Session-Id: 5b0e3c1a-9d5f-4e0b-8a51-1c7f3e2d4b60",
]
ANTHROPIC_HEADERS = ["anthropic-version: 2023-06-01"]
GEMINI_PATH = f"/v1beta/models/{MODEL}"


def rows() -> dict[str, Row]:
    """Every row, in the order the bench runs them: each protocol row next to its Gemini-native row."""
    listed = [
        Row("json", f"{GEMINI_PATH}:generateContent", gemini_body(), "gemini-json", "json", about="Gemini-native"),
        Row("chat-json", "/v1/chat/completions", chat_body(False), "chat-json", "json", about="OpenAI chat"),
        Row(
            "messages-json",
            "/v1/messages",
            messages_body(False),
            "messages-json",
            "json",
            ANTHROPIC_HEADERS,
            about="Anthropic messages",
        ),
        Row(
            "stream",
            f"{GEMINI_PATH}:streamGenerateContent?alt=sse",
            gemini_body(),
            "gemini-stream",
            "stream",
            about="Gemini-native, SSE",
        ),
        Row("chat-stream", "/v1/chat/completions", chat_body(True), "chat-stream", "stream", about="OpenAI chat, SSE"),
        Row(
            "responses", "/v1/responses", responses_body(), "responses-stream", "stream", about="OpenAI Responses, SSE"
        ),
        Row(
            "messages-stream",
            "/v1/messages",
            messages_body(True),
            "messages-stream",
            "stream",
            ANTHROPIC_HEADERS,
            about="Anthropic messages, SSE",
        ),
        Row(
            "messages-tools",
            "/v1/messages?beta=true",
            claude_code_body(),
            "messages-stream",
            "stream",
            CLAUDE_CODE_HEADERS,
            goal=False,
            about="Claude Code's first request (12 tools, ~45 KB), SSE",
        ),
    ]
    return {row.name: row for row in listed}


GEMINI_ROWS = ("json", "stream")  # the rows the direct and baseline targets serve
