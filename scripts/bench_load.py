"""The load generator of `make bench`: a fixed number of keep-alive HTTP/1.1 connections, each sending one
request after another (closed loop) for a warm-up, then for a measured window.

Raw asyncio protocol on uvloop with the request bytes built once, so that the client costs little of the
CPU it shares with the fake upstream. Every reply in the window is checked (scripts/bench_replies.py): status
200, the protocol's terminal event, usage, the upstream's text; anything else is counted as an error, by why.
Prints `measure-start` and `measure-end` lines when the window opens and closes (the bench samples the servers'
CPU time then), then one JSON line of results.

    python scripts/bench_load.py --port 8045 --path /v1beta/models/m:generateContent --body '{…}' \
        --reply gemini-json --text 'The quick…' -c 32 -d 5

With `--slices PLAN.json` it runs several rows in one load instead, in short alternating slices: the first row
(the base) before and after each of the others in turn (base, A, base, B, base, A, …, base). A slice sends one
row's request on every connection until its time is up, then waits for the replies in flight, so that the
server's CPU time between two slices (read here, from /proc) is that row's alone. Each slice's req/s, CPU per
request and noise on the server's CPU are printed as JSON: a row's ratio to its neighbouring base slices then
compares two rows under the same conditions, within a second of each other, where a noisy neighbour on a
shared machine changes the conditions from one second to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench_procs import cpu_times, run_seconds
from bench_replies import CHECKS, check

perf_counter = time.perf_counter


class Broken(Exception):
    """The connection closed or sent something that is not HTTP/1.1."""


@dataclass
class Answer:
    status: int
    started: float
    first_event: float | None  # when the body first held an SSE `data:` line (streams)
    finished: float
    body: bytes
    close: bool
    content_type: bytes


class Connection(asyncio.Protocol):
    """One keep-alive connection; `request()` sends the prepared bytes and waits for the whole answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.buffer = bytearray()
        self._reset(0.0)

    def _reset(self, started: float) -> None:
        self.buffer.clear()
        self.started = started
        self.body_at = -1  # offset of the body in the buffer, once the head is in
        self.status = 0
        self.length = -1  # Content-Length, or -1 for chunked
        self.close = False
        self.content_type = b""
        self.cursor = 0  # chunked: where the next chunk-size line starts
        self.parts: list[bytes] = []
        self.first_event: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(Broken("the server closed the connection"))

    def request(self, data: bytes) -> asyncio.Future[Answer]:
        if self.transport is None:
            raise Broken("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self._reset(perf_counter())
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        now = perf_counter()
        buffer = self.buffer
        buffer += data
        if self.body_at < 0 and not self._head():
            return
        if self.first_event is None and buffer.find(b"data:", self.body_at) >= 0:
            self.first_event = now
        done = self._chunks() if self.length < 0 else len(buffer) - self.body_at >= self.length
        if done and self.waiter is not None and not self.waiter.done():
            body = b"".join(self.parts) if self.length < 0 else bytes(buffer[self.body_at :])
            answer = Answer(self.status, self.started, self.first_event, now, body, self.close, self.content_type)
            self.waiter.set_result(answer)

    def _head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).lower()
        try:
            self.status = int(head[9:12])
        except ValueError:
            self._fail("not an HTTP/1.1 status line")
            return False
        self.body_at = self.cursor = end + 4
        self.close = b"\r\nconnection: close" in head
        at = head.find(b"\r\ncontent-type:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            self.content_type = head[at + 15 : stop if stop >= 0 else len(head)].strip()
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            self.length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        elif b"\r\ntransfer-encoding: chunked" in head:
            self.length = -1
        else:
            self._fail("neither Content-Length nor chunked (read-until-close is not supported)")
            return False
        return True

    def _chunks(self) -> bool:
        """Parse the chunks that are complete; True once the last (empty) chunk and its CRLF are in."""
        buffer = self.buffer
        while True:
            line_end = buffer.find(b"\r\n", self.cursor)
            if line_end < 0:
                return False
            size = int(bytes(buffer[self.cursor : line_end]).split(b";", 1)[0], 16)
            start = line_end + 2
            if size == 0:
                return buffer.find(b"\r\n", start) >= 0  # trailers are not expected
            if len(buffer) < start + size + 2:
                return False
            self.parts.append(bytes(buffer[start : start + size]))
            self.cursor = start + size + 2

    def _fail(self, why: str) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(Broken(why))
        if self.transport is not None:
            self.transport.close()


@dataclass
class Tally:
    measure_from: float
    measure_to: float
    reply: str  # the kind of reply that counts (bench_replies.CHECKS)
    text: str  # the text it must carry
    latencies: list[float] = field(default_factory=list)
    first_events: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_sample: str | None = None
    warmup_done: int = 0

    def add(self, answer: Answer) -> None:
        if not self.measure_from <= answer.finished <= self.measure_to:
            self.warmup_done += answer.finished < self.measure_from
            return
        why = self.judge(answer)
        if why is not None:
            self.errors[why] += 1
            if self.error_sample is None:
                self.error_sample = f"HTTP {answer.status} ({why}): {answer.body[:400].decode(errors='replace')}"
            return
        self.latencies.append(answer.finished - answer.started)
        if answer.first_event is not None:
            self.first_events.append(answer.first_event - answer.started)

    def judge(self, answer: Answer) -> str | None:
        """None for a complete, successful reply of the expected kind; else the error's name."""
        if answer.status != 200:
            return str(answer.status)
        stream = self.reply.endswith("-stream")
        if stream != answer.content_type.startswith(b"text/event-stream"):
            return f"200 with content-type {answer.content_type.decode(errors='replace') or 'none'}"
        why = check(self.reply, answer.body, self.text)
        return None if why is None else f"200 but {why}"

    def broken(self, why: str) -> None:
        if self.measure_from <= perf_counter() <= self.measure_to:
            self.errors["connection"] += 1
            self.error_sample = self.error_sample or f"connection: {why}"


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, host, port)
    return protocol


async def worker(host: str, port: int, data: bytes, tally: Tally) -> None:
    conn: Connection | None = None
    while perf_counter() < tally.measure_to:
        try:
            if conn is None or conn.transport is None:
                conn = await connect(host, port)
            answer = await conn.request(data)
        except (Broken, OSError) as exc:
            tally.broken(str(exc))
            conn = None
            await asyncio.sleep(0.01)  # a refused connection must not spin
            continue
        tally.add(answer)
        if answer.close and conn.transport is not None:
            conn.transport.close()
    if conn is not None and conn.transport is not None:
        conn.transport.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build_request(host: str, port: int, path: str, body: bytes, headers: list[str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json", *headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    body = args.body.encode() if args.body is not None else open(args.body_file, "rb").read()
    data = build_request(args.host, args.port, args.path, body, args.header)
    start = perf_counter()
    tally = Tally(start + args.warmup, start + args.warmup + args.duration, args.reply, args.text)

    async def markers() -> None:
        await asyncio.sleep(max(0.0, tally.measure_from - perf_counter()))
        print("measure-start", flush=True)
        cpu_from = time.process_time()
        await asyncio.sleep(max(0.0, tally.measure_to - perf_counter()))
        print("measure-end", flush=True)
        cpu_used[0] = time.process_time() - cpu_from

    cpu_used = [0.0]
    workers = [worker(args.host, args.port, data, tally) for _ in range(args.concurrency)]
    await asyncio.gather(markers(), *workers)
    ok = len(tally.latencies)
    ms = 1000.0
    result: dict[str, Any] = {
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "requests": ok,
        "errors": dict(tally.errors),
        "error_sample": tally.error_sample,
        "rps": ok / args.duration,
        "p50_ms": _scaled(percentile(tally.latencies, 0.50), ms),
        "p90_ms": _scaled(percentile(tally.latencies, 0.90), ms),
        "p99_ms": _scaled(percentile(tally.latencies, 0.99), ms),
        "mean_ms": _scaled(sum(tally.latencies) / ok if ok else None, ms),
        "loadgen_cpu_pct": 100.0 * cpu_used[0] / args.duration,
    }
    if tally.first_events:
        result["ttfb_p50_ms"] = _scaled(percentile(tally.first_events, 0.50), ms)
        result["ttfb_p99_ms"] = _scaled(percentile(tally.first_events, 0.99), ms)
    return result


@dataclass(frozen=True)
class SlicedRow:
    name: str
    data: bytes  # the whole HTTP request
    reply: str


async def one_slice(
    args: argparse.Namespace, conns: list[Connection | None], row: SlicedRow, seconds: float
) -> tuple[Tally, float]:
    """Every connection sends `row` until `seconds` have passed; returns once every reply is in."""
    start = perf_counter()
    deadline = start + seconds
    tally = Tally(start, float("inf"), row.reply, args.text)

    async def loop(slot: int) -> None:
        while perf_counter() < deadline:
            conn = conns[slot]
            try:
                if conn is None or conn.transport is None:
                    conn = conns[slot] = await connect(args.host, args.port)
                answer = await conn.request(row.data)
            except (Broken, OSError) as exc:
                tally.broken(str(exc))
                conns[slot] = None
                await asyncio.sleep(0.01)  # a refused connection must not spin
                continue
            tally.add(answer)
            if answer.close and conn.transport is not None:
                conn.transport.close()

    await asyncio.gather(*(loop(slot) for slot in range(args.concurrency)))
    return tally, perf_counter() - start


def slice_order(names: list[str], cycles: int) -> list[str]:
    """base, A, base, B, …, base, A, … for `cycles` rounds of the other rows, ending on the base."""
    base, others = names[0], names[1:]
    order = [step for _ in range(cycles) for row in others for step in (base, row)]
    return [*order, base]


async def run_slices(args: argparse.Namespace) -> dict[str, Any]:
    plan = json.loads(open(args.slices, encoding="utf-8").read())
    rows = [
        SlicedRow(
            row["name"],
            build_request(args.host, args.port, row["path"], open(row["body_file"], "rb").read(), row["headers"]),
            row["reply"],
        )
        for row in plan["rows"]
    ]
    by_name = {row.name: row for row in rows}
    pids, cpu, seconds = plan["server_pids"], plan.get("server_cpu"), plan["slice_s"]
    conns: list[Connection | None] = [None] * args.concurrency
    for row in rows:  # unmeasured: connections open, each row's path warm
        await one_slice(args, conns, row, seconds)
    slices = []
    cpu_from = time.process_time()
    for name in slice_order([row.name for row in rows], plan["cycles"]):
        ran0, (busy0, steal0) = run_seconds(pids), cpu_times(cpu)
        tally, elapsed = await one_slice(args, conns, by_name[name], seconds)
        ran, (busy1, steal1) = run_seconds(pids) - ran0, cpu_times(cpu)
        ok = len(tally.latencies)
        record: dict[str, Any] = {
            "row": name,
            "requests": ok,
            "errors": dict(tally.errors),
            "error_sample": tally.error_sample,
            "elapsed_s": round(elapsed, 6),
            "rps": ok / elapsed,
            "p50_ms": _scaled(percentile(tally.latencies, 0.50), 1000.0),
            "server_cpu_pct": round(100 * ran / elapsed, 1),
            "server_cpu_us_per_req": round(1e6 * ran / ok, 1) if ok else None,
        }
        if cpu is not None:  # busy time on the server's CPU that was not the server's, and time the hypervisor took
            other = max(0.0, (busy1 - busy0) - ran)
            record["noise_pct"] = round(100 * (other + steal1 - steal0) / elapsed, 1)
        slices.append(record)
    used = time.process_time() - cpu_from
    for conn in conns:
        if conn is not None and conn.transport is not None:
            conn.transport.close()
    total = sum(s["elapsed_s"] for s in slices)
    return {"concurrency": args.concurrency, "slices": slices, "loadgen_cpu_pct": 100.0 * used / total}


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else round(value * factor, 4)


def run(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path")
    parser.add_argument("--slices", metavar="PLAN", help="a JSON plan of rows to run in alternating slices")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--body", help="the JSON body, sent as is")
    source.add_argument("--body-file", help="a file holding the JSON body")
    parser.add_argument("--header", action="append", default=[], help="an extra 'Name: value' line (repeatable)")
    parser.add_argument("--reply", choices=sorted(CHECKS), help="the kind of reply that counts")
    parser.add_argument("--text", required=True, help="the text a reply must carry (the upstream's)")
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("-w", "--warmup", type=float, default=1.0, help="seconds of load before the window")
    args = parser.parse_args()
    if args.slices is not None:
        result = run(run_slices(args))
    elif args.path is None or args.reply is None or (args.body is None and args.body_file is None):
        parser.error("--path, --reply and --body or --body-file are needed (or --slices)")
    else:
        result = run(run_load(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
