"""Requests the HTTP layer could not read: a malformed head, a URL with control bytes, headers over the limit.

Sanic answers those through a stand-in request of its own (method `NONE`, no headers, no head bytes) and the app's
error handler. Three things make that answer right: the stand-in is never mistaken for a real request (the guard
lets it through, so it is not a 401 for want of the key it never had room to show); the stand-in can always be
built (`EdgeRequest`: a URL httptools refuses no longer takes the connection down with three tracebacks); and
the answer says what was wrong (`edge_error`), in the shape of the path on the request line (`client_path`).
"""

from __future__ import annotations

import re
from typing import Any

from sanic import Request
from sanic.exceptions import BadRequest as SanicBadRequest
from sanic.exceptions import BadURL, ExpectationFailed, SanicException
from sanic.exceptions import PayloadTooLarge as SanicPayloadTooLarge
from sanic.http.http1 import Http

from trayagent.errors import BadRequest, HeadersTooLarge, ProxyError

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_HEAD_SCAN = 16_384  # the most of the receive buffer read to find the request line and headers


class EdgeRequest(Request):
    """Sanic's Request, except that its stand-in for an unreadable request survives an unparsable URL."""

    __slots__ = ()

    def __init__(
        self,
        url_bytes: bytes,
        headers: Any,
        version: str,
        method: str,
        transport: Any,
        app: Any,
        head: bytes = b"",
        stream_id: int = 0,
    ) -> None:
        try:
            super().__init__(url_bytes, headers, version, method, transport, app, head, stream_id)
        except BadURL:
            if not (method == "NONE" and not head):
                raise  # a real request: its BadURL is the error its stand-in will answer
            super().__init__(_parsable(url_bytes), headers, version, method, transport, app, head, stream_id)


def _parsable(url: bytes) -> bytes:
    """The URL with its control, space and non-ASCII bytes %-escaped, or `/` if even that is not a URL."""
    escaped = b"".join(b"%%%02X" % byte if byte <= 0x20 or byte >= 0x7F else bytes((byte,)) for byte in url[:2048])
    return escaped if escaped.startswith(b"/") else b"/"


def unparsed(request: Request[Any, Any] | None) -> bool:
    """Sanic's stand-in for a request whose head it could not read (a real request always has head bytes)."""
    return request is not None and request.method == "NONE" and not request.head


def client_path(request: Request[Any, Any] | None) -> str:
    """The path the client asked for: the request's own, or, for a stand-in, the one on its request line."""
    if request is None:
        return "/"
    if not unparsed(request):
        return request.path
    parts = _head(request).split(b"\r\n", 1)[0].split(b" ")
    if len(parts) < 2 or not parts[1].startswith(b"/"):
        return "/"
    # Only its prefix matters (which protocol): up to the query, or to a control byte that cut it short.
    path = _CONTROL.split(parts[1].split(b"?", 1)[0], 1)[0]
    return path.decode("latin-1")


def edge_error(request: Request[Any, Any] | None, exc: Exception) -> ProxyError | None:
    """What to tell a client whose request the HTTP layer refused; None when `exc` is not such a refusal."""
    if not unparsed(request) or not isinstance(exc, SanicException):
        return None
    assert request is not None
    if isinstance(exc, SanicPayloadTooLarge):
        return HeadersTooLarge(
            f"the request line and headers are larger than trayagent reads ({Http.HEADER_MAX_SIZE // 1024} KB)"
        )
    if isinstance(exc, ExpectationFailed):
        error: ProxyError = BadRequest(f"{exc}; only 'Expect: 100-continue' is understood")
        error.status_code = 417
        return error
    if type(exc) is SanicBadRequest:  # Sanic says which only in words (its BadURL is the same class)
        message = str(exc)
        if message.startswith("Bad URL"):
            return BadRequest("the request URL holds a space or a control byte; percent-encode it (RFC 3986)")
        if "US-ASCII" in message:
            return BadRequest("the request URL holds bytes that are not ASCII; percent-encode them (RFC 3986)")
        return BadRequest(describe_head(_head(request)))
    return None


def describe_head(head: bytes) -> str:
    """Why a request head that Sanic refused is malformed, in words (pure: tests feed it bytes)."""
    end = head.find(b"\r\n\r\n")
    lines = (head[:end] if end >= 0 else head).split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        return "the request line is not 'METHOD /path HTTP/1.1'"
    fields: dict[bytes, list[bytes]] = {}
    for number, line in enumerate(lines[1:], start=2):
        name, colon, value = line.partition(b":")
        if not colon or not name:
            return f"line {number} of the request head is not a 'Name: value' header"
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    lengths, encodings = fields.get(b"content-length", []), fields.get(b"transfer-encoding", [])
    if lengths and encodings:
        return "the request has both Content-Length and Transfer-Encoding; send one of them"
    if len(lengths) > 1:
        return f"the request has {len(lengths)} Content-Length headers; send one"
    if len(encodings) > 1:
        return f"the request has {len(encodings)} Transfer-Encoding headers; send one"
    if encodings and encodings[0].lower() != b"chunked":
        shown = encodings[0][:40].decode("ascii", "backslashreplace")
        return f"Transfer-Encoding '{shown}' is not supported; send the body chunked or with a Content-Length"
    if lengths and not lengths[0].isdigit():
        shown = lengths[0][:40].decode("ascii", "backslashreplace")
        return f"Content-Length '{shown}' is not a number of bytes"
    return "the request head is malformed"


def _head(request: Request[Any, Any]) -> bytes:
    """The bytes of the head Sanic refused: still at the start of its receive buffer."""
    buffer = getattr(request.stream, "recv_buffer", None)
    return bytes(buffer[:_HEAD_SCAN]) if buffer else b""
