"""HTTP/1.1 on a bare socket, for requests no client library would send (doubled headers, bytes that are not
UTF-8, control bytes in the URL); the error shape of each client protocol; and the log of an in-process proxy.

`send` writes the bytes as given and reads until the server closes (every request says `Connection: close`),
so a server that drops the connection without an answer shows up as a reply with status 0.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass
class RawReply:
    status: int  # 0: no HTTP answer at all
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return orjson.loads(self.body)


def request_bytes(
    method: bytes, target: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes = b"", *, length: bool = True
) -> bytes:
    """A request as bytes: the headers as given, then `Content-Length` (unless `length` is False) and close."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in headers]
    if length and body:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send(port: int, data: bytes, timeout: float = 10) -> RawReply:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything (an oversized head)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return parse_reply(b"".join(chunks))


def parse_reply(raw: bytes) -> RawReply:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return RawReply(0, "", [], raw)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    reply = RawReply(int(status), reason, headers, body)
    if (reply.header("transfer-encoding") or "").lower() == "chunked":
        reply.body = _dechunk(body)
    return reply


def _dechunk(data: bytes) -> bytes:
    out, rest = bytearray(), data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def error_shape_problem(protocol: str, status: int, body: Any) -> str | None:
    """Why `body` is not an error in `protocol`'s own shape (None when it is one)."""
    if not isinstance(body, dict):
        return f"not a JSON object: {body!r}"
    if protocol == "anthropic":
        error = body.get("error")
        if body.get("type") != "error" or not isinstance(error, dict) or set(error) != {"type", "message"}:
            return f"not Anthropic's error shape: {body!r}"
    elif protocol == "gemini":
        error = body.get("error")
        if not isinstance(error, dict) or set(error) != {"code", "message", "status"} or error["code"] != status:
            return f"not Gemini's error shape (with code {status}): {body!r}"
    else:
        error = body.get("error")
        if set(body) != {"error"} or not isinstance(error, dict) or set(error) != {"message", "type", "param", "code"}:
            return f"not OpenAI's error shape: {body!r}"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return f"no message in words: {body!r}"
    return None


class LogCapture(logging.Handler):
    """Every record logged in this process while installed (the in-process proxy logs here), formatted with
    its traceback when it has one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self._lock2 = threading.Lock()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self._lock2:
            self.lines.append(text)

    def text(self) -> str:
        with self._lock2:
            return "\n".join(self.lines)

    def mark(self) -> int:
        with self._lock2:
            return len(self.lines)

    def since(self, mark: int) -> str:
        with self._lock2:
            return "\n".join(self.lines[mark:])


@contextmanager
def captured_log() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(min(old_level or logging.WARNING, logging.INFO))
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)


def tracebacks(text: str) -> bool:
    return "Traceback (most recent call last)" in text
