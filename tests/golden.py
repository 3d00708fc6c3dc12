"""Golden files for front ends: `tests/golden/<frontend>/<case>/`, run as plain function calls.

A case folder holds
  client.json    the client's body (required)
  target.json    optional ClientTarget fields: {"path", "params", "query", "headers", "routes": {client: upstream},
                 "stored": {id: {"reply", "conversation"}}} (the replies the response store holds)
  hub.json       the expected ClientCall: {"model", "request", "session_key", "operation", "stream"}
  chunks.json    optional: the hub chunks Google sends back (a list of GenerateContentResponse objects)
  stream.txt     expected wire bytes of the streamed reply (when the call streams and chunks.json exists)
  reply.json     expected rendered reply of the merged chunks (when the call does not stream)
  error.json     instead of hub.json: parse must fail; {"status", "body"} of the rendered error
Ids and the clock are fixed (CountingIds), so the outputs are byte-for-byte stable.

`UPDATE_GOLDEN=1 pytest tests/unit/test_golden_*.py` rewrites the expected files from the current code; read the
diff before committing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from trayagent.errors import ProxyError, StreamBroken
from trayagent.translate.gemini import merge_chunks
from trayagent.translate.hub import ClientCall, ClientTarget, CountingIds, Frontend, StoredReply

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Case:
    folder: Path

    @property
    def name(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}"

    def read(self, name: str) -> Any:
        return orjson.loads((self.folder / name).read_bytes())

    def has(self, name: str) -> bool:
        return (self.folder / name).exists()


def cases(frontend_dir: str) -> list[Case]:
    root = GOLDEN / frontend_dir
    return [Case(path) for path in sorted(root.iterdir()) if (path / "client.json").exists()] if root.exists() else []


def target_of(case: Case) -> ClientTarget:
    if not case.has("target.json"):
        return ClientTarget()
    raw: dict[str, Any] = case.read("target.json")
    routes: Mapping[str, str] = raw.pop("routes", {})
    upstream: Callable[[str], str] = lambda name: routes.get(name, name)  # noqa: E731
    stored = {
        reply_id: StoredReply(kept["reply"], tuple(kept["conversation"]))
        for reply_id, kept in raw.pop("stored", {}).items()
    }
    return ClientTarget(
        path=raw.get("path", "/"),
        params=raw.get("params", {}),
        query=raw.get("query", {}),
        headers={key.lower(): value for key, value in raw.get("headers", {}).items()},
        upstream_model=upstream,
        stored=stored.get,
    )


def call_as_json(call: ClientCall) -> dict[str, Any]:
    return {
        "model": call.hub.model,
        "request": call.hub.request,
        "session_key": call.hub.session_key,
        "operation": call.operation,
        "stream": call.stream,
    }


def _pretty(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def _check_json(case: Case, name: str, actual: Any) -> None:
    path = case.folder / name
    if UPDATE:
        path.write_bytes(_pretty(actual))
        return
    expected = orjson.loads(path.read_bytes())
    assert orjson.loads(orjson.dumps(actual)) == expected, f"{case.name}/{name} differs"


def _check_bytes(case: Case, name: str, actual: bytes) -> None:
    path = case.folder / name
    if UPDATE:
        path.write_bytes(actual)
        return
    expected = path.read_bytes()
    assert actual == expected, f"{case.name}/{name} differs:\n{actual.decode(errors='replace')}"


def run_case(frontend: Frontend, case: Case) -> ClientCall | None:
    """Parse, then render or encode; every output is compared with its golden file. The call, for more checks."""
    body = case.read("client.json")
    target = target_of(case)
    if case.has("error.json"):
        try:
            frontend.parse(body, target)
        except ProxyError as error:
            _check_json(case, "error.json", {"status": error.status_code, "body": frontend.render_error(error)})
            return None
        raise AssertionError(f"{case.name}: parse accepted a body the golden file says it must refuse")
    call = frontend.parse(body, target)
    _check_json(case, "hub.json", call_as_json(call))
    if not case.has("chunks.json"):
        return call
    chunks = case.read("chunks.json")
    if call.stream:
        _check_bytes(case, "stream.txt", encode_stream(frontend, call, chunks))
    else:
        _check_json(case, "reply.json", frontend.render(call, merge_chunks(chunks), CountingIds()))
    return call


def encode_stream(
    frontend: Frontend, call: ClientCall, chunks: list[dict[str, Any]], error: ProxyError | None = None
) -> bytes:
    """What the relay would write for these chunks: every feed, then finish (or fail with `error`). A feed that
    raises StreamBroken (the reply turned out unusable) ends the stream with fail(), as the relay does."""
    encoder = frontend.encoder(call, CountingIds())
    out = []
    try:
        for chunk in chunks:
            out.append(encoder.feed(chunk))
    except StreamBroken as broken:
        return b"".join(out) + encoder.fail(broken)
    return b"".join(out) + (encoder.fail(error) if error is not None else encoder.finish())
