"""The response store over HTTP: `GET /v1/responses/{id}` (the stored object, as its reply had it),
`GET /v1/responses/{id}/input_items` and `DELETE /v1/responses/{id}`. Rows of the route table
(proxy/routetable.py), in OpenAI's protocol; answered from memory (proxy/responsestore.py), never from Google.
"""

from __future__ import annotations

from sanic.response import HTTPResponse

from trayagent.proxy.context import ProxyRequest
from trayagent.proxy.replies import json_reply
from trayagent.translate import openai_responses_items as items


def _query(request: ProxyRequest) -> dict[str, str]:
    return {name: values[0] for name, values in request.args.items()} if request.args else {}


async def retrieve(request: ProxyRequest, response_id: str) -> HTTPResponse:
    items.check_retrieve(_query(request))
    stored = request.app.ctx.responses.get(response_id)
    if stored is None:
        raise items.not_stored(response_id)
    return json_reply(stored.reply)


async def input_items(request: ProxyRequest, response_id: str) -> HTTPResponse:
    stored = request.app.ctx.responses.get(response_id)
    if stored is None:
        raise items.not_stored(response_id)
    return json_reply(items.input_items(stored, _query(request)))


async def delete(request: ProxyRequest, response_id: str) -> HTTPResponse:
    if not request.app.ctx.responses.delete(response_id):
        raise items.not_stored(response_id)
    return json_reply(items.deleted(response_id))
