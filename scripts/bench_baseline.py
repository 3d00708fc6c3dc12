"""The benchmark's floor: a Gemini route that only re-wraps the body for Cloud Code, on Sanic + aiohttp.

No accounts, routing, retries or translation: wrap the request in the v1internal envelope, POST it with one
pooled session, unwrap `response` (JSON) or relay the SSE bytes as they come. Any design on this stack pays
at least this much. `python scripts/bench_baseline.py UPSTREAM_BASE PORT ACCESS_TOKEN PROJECT`
"""

import sys
import uuid

import aiohttp
import orjson
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

UPSTREAM, PORT, TOKEN, PROJECT = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "User-Agent": "antigravity/bench"}
app = Sanic("baseline", configure_logging=False)


@app.before_server_start
async def open_session(app: Sanic) -> None:
    app.ctx.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


@app.post("/v1beta/models/<target:path>")
async def generate(request: Request, target: str) -> HTTPResponse | None:
    model, _, method = target.rpartition(":")
    envelope = {"project": PROJECT, "model": model, "userAgent": "antigravity", "requestType": "agent"}
    payload = orjson.dumps({**envelope, "requestId": f"agent-{uuid.uuid4()}", "request": orjson.loads(request.body)})
    if method == "generateContent":
        async with app.ctx.session.post(f"{UPSTREAM}:generateContent", data=payload, headers=HEADERS) as up:
            body = orjson.dumps(orjson.loads(await up.read())["response"])
            return raw(body, status=up.status, content_type="application/json")
    async with app.ctx.session.post(f"{UPSTREAM}:streamGenerateContent?alt=sse", data=payload, headers=HEADERS) as up:
        response = await request.respond(status=up.status, content_type="text/event-stream")
        async for data in up.content.iter_any():
            await response.send(data)
        await response.eof()
    return None


if __name__ == "__main__":
    app.run("127.0.0.1", PORT, single_process=True, access_log=False, motd=False, debug=False)
