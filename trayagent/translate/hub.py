"""The seam between a client protocol and the dispatcher: what a front end hands over, what it gets back.

Gemini's GenerateContent shape is the hub. A front end (`Frontend`) turns the client's JSON body into a
`ClientCall` holding a `HubRequest`, and turns hub replies back into the client's wire format: a merged reply
through `render`, a stream chunk by chunk through a `StreamEncoder`. Front ends are pure: dicts and bytes in and
out, ids and the clock injected through `ReplyIds`, no I/O and no `await`. The relay (`proxy/relay.py`) does the
rest: the body, the account, the upstream, the socket, the request log.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from trayagent.errors import ProxyError
from trayagent.frozen import frozen

ClientProtocol = Literal["openai", "anthropic", "gemini"]
Operation = Literal["generate", "count_tokens"]


def _same_name(model: str) -> str:
    return model


@dataclass(frozen=True, slots=True)
class StoredReply:
    """A reply the proxy kept (the Responses API's `store`): the object the client got, and the conversation it
    answered as the client's input items, earlier turns included."""

    reply: Mapping[str, Any]
    conversation: tuple[Any, ...]


def _nothing_stored(reply_id: str) -> StoredReply | None:
    return None


@frozen  # made for every request: see trayagent/frozen.py
class HubRequest:
    """The client's model name, a Gemini GenerateContentRequest, and the conversation's sticky-session key."""

    model: str
    request: Mapping[str, Any]
    session_key: str | None = None
    # True where the client echoes signatures back itself (Anthropic thinking blocks): the dispatcher then keeps
    # only those Google issued for the answering model's family. False passes them through untouched (Gemini-native
    # clients own their history; a Responses reasoning item's blob names its family, and the input reader replays
    # only those of the answering one, so they stay valid across a proxy restart).
    verify_signatures: bool = False


@frozen  # made for every request: see trayagent/frozen.py
class ClientTarget:
    """What the route saw besides the body: its path parameters, the query and the headers (lower-case names)."""

    path: str = "/"
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    # The upstream model a client model name routes to (the user's mapping, aliases): a pure function the
    # relay passes in, so a front end can shape thinking settings and limits for the model that will answer.
    upstream_model: Callable[[str], str] = _same_name
    # A kept reply by its id (None: unknown, expired or never kept): the relay passes the response store's lookup,
    # so a front end can continue a stored conversation (`previous_response_id`) and stay pure.
    stored: Callable[[str], StoredReply | None] = _nothing_stored


# The ClientCall header that names, comma-separated, the hosted tools a front end dropped (web search and the like
# run on the client's provider; Google has no counterpart): one name for every protocol.
DROPPED_TOOLS_HEADER = "X-Trayagent-Dropped-Tools"


@frozen  # made for every request: see trayagent/frozen.py
class ClientCall:
    """One parsed client request.

    `echo` is the front end's own record of what the reply must repeat or honour (the model name the client
    asked for, `n`, `include_usage`, tool names to map back…); only that front end reads it. `headers` are added
    to the response (for instance which hosted tools were dropped); `notes` are logged once, masked.
    """

    hub: HubRequest
    operation: Operation = "generate"
    stream: bool = False
    echo: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # count_tokens only: when Google cannot be asked (every account busy or out), render `{}` instead of failing,
    # so the front end answers its own estimate (Claude Code compacts its context from this number).
    estimate_when_unanswered: bool = False
    # Keep the reply once it is whole (the Responses API's `store`), with this conversation: the input items it
    # answers, earlier turns included. None: not kept. The relay hands both to the response store.
    keep: tuple[Any, ...] | None = None


class ReplyIds(Protocol):
    """Where a front end gets reply ids and timestamps, so golden files can fix them."""

    def new(self, prefix: str) -> str:
        """A fresh id, e.g. `new("chatcmpl-")`, `new("msg_")`, `new("call_")`."""
        ...

    def now(self) -> int:
        """Unix seconds, for `created` fields."""
        ...


class StreamEncoder(Protocol):
    """Hub chunks in, wire bytes out, for one streamed reply. Each call may return b"" (nothing to send yet)."""

    def feed(self, chunk: Mapping[str, Any]) -> bytes:
        """One GenerateContentResponse chunk from the upstream (the first one included)."""
        ...

    def finish(self) -> bytes:
        """The upstream ended well: the protocol's terminal events (finish reason, usage, `[DONE]`, `]`)."""
        ...

    def fail(self, error: ProxyError) -> bytes:
        """The upstream broke part-way: the protocol's error event, then whatever closes its framing."""
        ...

    def keepalive(self) -> bytes:
        """Sent after a long silence so clients and middleboxes keep the stream (b"" where the format has none)."""
        ...


@runtime_checkable
class WholeReply(Protocol):
    """A stream encoder that holds, once the stream has ended, the reply object a call that did not stream would
    have got (None until then): what the relay keeps of a streamed call with `keep`."""

    @property
    def response(self) -> Mapping[str, Any] | None: ...


class Frontend(Protocol):
    """One client protocol endpoint. Everything here is a plain function call on plain data."""

    protocol: ClientProtocol

    def parse(self, body: dict[str, Any], target: ClientTarget) -> ClientCall:
        """The client's body → a ClientCall; `BadRequest` naming the field for anything it cannot honour."""
        ...

    def media_type(self, call: ClientCall) -> str:
        """The Content-Type of the streamed reply."""
        ...

    def encoder(self, call: ClientCall, ids: ReplyIds) -> StreamEncoder: ...

    def render(self, call: ClientCall, reply: Mapping[str, Any], ids: ReplyIds) -> Any:
        """A merged GenerateContentResponse (or, for count_tokens, Google's countTokens answer) → the JSON
        value the client gets."""
        ...

    def render_error(self, error: ProxyError) -> dict[str, Any]:
        """The error body in this protocol's shape."""
        ...


class CountingIds:
    """Deterministic ReplyIds for golden files and tests: `prefix` + a counter, a fixed clock."""

    def __init__(self, now: int = 1_700_000_000, width: int = 4) -> None:
        self._counter = itertools.count(1)
        self._now = now
        self._width = width

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):0{self._width}d}"

    def now(self) -> int:
        return self._now


def session_key(first_user_text: str | None = None, client_session_id: str | None = None) -> str | None:
    """A stable key per conversation: the client's own session/user id when it sends one, else a hash of
    the first user message. None when neither exists (that request is not sticky)."""
    if client_session_id and client_session_id.strip():
        source = "client\0" + client_session_id.strip()
    elif first_user_text and first_user_text.strip():
        source = "text\0" + first_user_text.strip()
    else:
        return None
    return "sid-" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def sse_event(data: bytes, event: str | None = None) -> bytes:
    """One server-sent event: `event:` (when named) and a `data:` line holding JSON (which has no newline)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


SSE_KEEPALIVE = b": keep-alive\n\n"
EVENT_STREAM = "text/event-stream"  # the Content-Type of a streamed (SSE) reply
