"""Stored responses read back (`GET /v1/responses/{id}`, `…/input_items`, `DELETE`): the query checked, and the
conversation a response answered listed as OpenAI lists input items — one page, newest first unless asked.

Items are listed in the shape OpenAI gives them: every item has an id (a client item sent without one gets its
position, `item_<n>`, which stays the same in every later response of the conversation, since a continued
conversation only grows at its end), a message's text content is a list of parts, and items carry a status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from trayagent.errors import BadRequest, RouteNotFound
from trayagent.translate.hub import StoredReply

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
_STATUS_KINDS: Final = frozenset(
    {"message", "function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output"}
)


def not_stored(response_id: str) -> RouteNotFound:
    return RouteNotFound(
        f"No response {response_id!r} is stored here: the id is unknown or expired. This proxy keeps responses in "
        "memory only: for a limited time, until it restarts, and never those made with store: false"
    )


def check_retrieve(query: Mapping[str, str]) -> None:
    """`GET /v1/responses/{id}` query: the stored object is read back whole; `include` changes nothing here."""
    if query.get("stream", "false").lower() not in ("false", "0"):
        raise BadRequest("stream: a stored response is read back whole here, not as a stream", param="stream")


def deleted(response_id: str) -> dict[str, Any]:
    return {"id": response_id, "object": "response.deleted", "deleted": True}


def input_items(stored: StoredReply, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of the input items a stored response answered (its earlier turns included), as OpenAI lists
    them: `limit` (1–100, 20 by default), `order` (`desc` by default) and `after` an item id."""
    limit = _limit(query.get("limit"))
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("order: expected asc or desc", param="order")
    items = [_listed(index, item) for index, item in enumerate(stored.conversation)]
    if order == "desc":
        items.reverse()
    after = query.get("after")
    if after is not None:
        position = next((i for i, item in enumerate(items) if item["id"] == after), None)
        if position is None:
            raise BadRequest(f"after: no input item {after!r} in this response", param="after")
        items = items[position + 1 :]
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}", param="limit")
    return limit


def _listed(index: int, item: Any) -> dict[str, Any]:
    listed = dict(item)
    kind = listed.setdefault("type", "message")
    if not isinstance(listed.get("id"), str) or not listed["id"]:
        listed["id"] = f"item_{index}"
    if kind == "message":
        listed["content"] = _parts(listed.get("content"), listed.get("role") == "assistant")
    if kind in _STATUS_KINDS:
        listed.setdefault("status", "completed")
    return listed


def _parts(content: object, assistant: bool) -> Sequence[Any]:
    if not isinstance(content, str):
        return content if isinstance(content, list) else []
    if assistant:
        return [{"type": "output_text", "text": content, "annotations": []}]
    return [{"type": "input_text", "text": content}]
