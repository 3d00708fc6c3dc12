"""`make bench`: how much the proxy costs over a bare pass-through, on this machine, with a zero-latency Google.

One run starts a lean fake upstream (scripts/bench_fake.py), then measures three targets in turn:
  direct    the fake itself, sent the v1internal envelope (the floor of the network path);
  baseline  scripts/bench_baseline.py, a ~30-line Sanic + aiohttp re-wrap of the body (the floor of the stack);
  proxy     a real `trayagent serve` with one account (and `proxy+monitor`, the same with the request log on).
Each is loaded by scripts/bench_load.py at each concurrency in each row (scripts/bench_rows.py): Gemini-native
non-streaming (`json`) and streaming (`stream`), which every target serves, and on the proxies the same
conversation over OpenAI chat, Responses and Anthropic messages, plus Claude Code's first request. Figures:
req/s, p50/p99 latency, time to the first SSE event, CPU used; the proxy's RSS before and after. The server under
test runs alone on one CPU, the fake and the load generator on another. It prints a table with the goals (proxy ≥
80% of the baseline's req/s at the highest concurrency; under 1 ms added over direct at the median with one
client; each protocol row ≥ 85% of the Gemini-native row's req/s, in alternating slices of one load;
Anthropic's first stream byte at most 1 ms after Gemini's) and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_fake import MODEL, PROJECT, TEXTS  # noqa: E402
from bench_procs import children, cpu_seconds, cpu_times  # noqa: E402
from bench_rows import GEMINI_ROWS, gemini_body, rows  # noqa: E402
from bench_translate import BATCHES  # noqa: E402
from bench_translate import measure as measure_frontends  # noqa: E402

ROWS = rows()
TARGETS = ("direct", "baseline", "proxy", "proxy+monitor")
GOAL_RATIO = 0.80
GOAL_ADDED_MS = 1.0
GOAL_PROTOCOL_RATIO = 0.85  # a protocol row against the Gemini-native row of the same target (issues 12, 13)
GOAL_ADDED_TTFB_MS = 1.0  # Anthropic's first stream byte against Gemini's, with one client (issue 13)
REPLY_TEXT = "".join(TEXTS)
NOISY_PCT = 5.0  # other work + steal on the server's CPU above this flags a cell as noisy
MIN_CLEAN_PAIRS = 4  # fewer clean slice pairs than this: the ratio is taken over every pair, and flagged
PURE_VARIABLE = "TRAYAGENT_PURE_PYTHON"  # trayagent/compiled.py: set, the proxies run their front ends uncompiled


# -- processes ------------------------------------------------------------------------------------------


@dataclass
class CpuPlan:
    """The CPU for the server under test and the CPU for everything else; None when there is only one."""

    server: int | None
    rest: int | None

    @classmethod
    def choose(cls, pin: bool) -> CpuPlan:
        allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not pin or len(allowed) < 2:
            return cls(None, None)
        return cls(allowed[0], allowed[1])

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (one CPU, or --no-pin): every process shares the machine"
        return f"server under test on CPU {self.server}; fake upstream, load generator and bench on CPU {self.rest}"

    def server_preexec(self) -> Callable[[], None] | None:
        cpu = self.server
        if cpu is None:
            return None
        return lambda: os.sched_setaffinity(0, {cpu})


def pin_process(pid: int, cpu: int | None) -> None:
    """Every thread of `pid` (sched_setaffinity on a pid moves only its main thread)."""
    if cpu is None:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except (ProcessLookupError, PermissionError):
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status: it is serving
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered {url} within {timeout} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# -- targets --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What the load generator sends for one row, and the kind of reply it must get back."""

    path: str
    body_file: Path
    reply: str
    headers: tuple[str, ...] = ()


def row_requests(workdir: Path, names: list[str]) -> dict[str, Request]:
    """The rows in `names`, their bodies written once into `workdir` (the load generator's argv stays short)."""
    out = {}
    for name in names:
        row = ROWS[name]
        body = workdir / f"body-{name}.json"
        if not body.exists():
            body.write_bytes(row.data())
        out[name] = Request(row.path, body, row.reply, tuple(row.headers))
    return out


@dataclass
class Target:
    name: str
    port: int
    rows: dict[str, Request]  # the rows this target serves
    headers: list[str] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)  # CPU time is sampled for these
    fake_pid: int = 0
    rss_pid: int | None = None
    note: str = ""
    source: Path | None = None  # a proxy's checkout


@contextmanager
def fake_upstream(python: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    proc = subprocess.Popen([python, str(HERE / "bench_fake.py")], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("listening "):
            raise RuntimeError(f"the fake upstream did not start: {line!r}")
        yield int(line.split()[1]), proc
    finally:
        stop(proc)


def direct_target(fake_port: int, fake_pid: int, workdir: Path) -> Target:
    envelope = {
        "project": PROJECT,
        "model": MODEL,
        "userAgent": "antigravity",
        "requestType": "agent",
        "requestId": "agent-bench",
        "request": {**gemini_body(), "sessionId": "-1"},
    }
    body = workdir / "body-envelope.json"
    body.write_bytes(json.dumps(envelope).encode())
    methods = {"json": ":generateContent", "stream": ":streamGenerateContent?alt=sse"}
    return Target(
        "direct",
        fake_port,
        {
            name: Request(f"/v1internal{methods[name]}", body, ROWS[name].reply.replace("gemini", "cloudcode"))
            for name in GEMINI_ROWS
        },
        ["Authorization: Bearer bench-access-token", "User-Agent: antigravity/bench"],
        server_pids=[fake_pid],
        fake_pid=fake_pid,
        note="the fake alone (shares its CPU with the load generator)",
    )


@contextmanager
def baseline_target(python: str, fake_port: int, fake_pid: int, plan: CpuPlan, workdir: Path) -> Iterator[Target]:
    port = free_port()
    log = workdir / "baseline.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, str(HERE / "bench_baseline.py"), f"http://127.0.0.1:{fake_port}/v1internal", str(port)]
            + ["bench-access-token", PROJECT],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=plan.server_preexec(),
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/", 20, proc, log)
        rows = row_requests(workdir, list(GEMINI_ROWS))
        # The floor relays Cloud Code's SSE bytes as they come, `response` wrapper and all.
        rows["stream"] = replace(rows["stream"], reply="cloudcode-stream")
        yield Target(
            "baseline",
            port,
            rows,
            server_pids=[proc.pid],
            fake_pid=fake_pid,
            note="Sanic + aiohttp re-wrap",
        )
    finally:
        stop(proc)


def proxy_config(proxy_port: int, fake_port: int, monitor: bool) -> str:
    fake = f"http://127.0.0.1:{fake_port}"
    return f"""\
proxy:
  port: {proxy_port}
  auth_mode: "off"
upstream:
  endpoints:
    - {fake}/v1internal
oauth:
  client_id: bench-client
  client_secret: bench-secret
  auth_url: {fake}/auth
  token_url: {fake}/token
  userinfo_url: {fake}/userinfo
scheduling:
  quota_refresh_minutes: 10080  # no quota refresh during a run
monitor:
  enabled: {"true" if monitor else "false"}
"""


def isolated_env(home: Path, source: Path = REPO) -> dict[str, str]:
    """trayagent sees only `home`: no user config, no OS keyring (secrets go to the 0600 fallback file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAYAGENT_", "XDG_", "PYTHON_KEYRING"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(
        TRAYAGENT_HOME=str(home),
        HOME=str(home / "user"),
        XDG_CONFIG_HOME=str(home / "user" / ".config"),
        XDG_DATA_HOME=str(home / "user" / ".local" / "share"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")])),
    )
    if PURE_VARIABLE in os.environ:  # kept, unlike the other TRAYAGENT_ variables
        env[PURE_VARIABLE] = os.environ[PURE_VARIABLE]
    return env


@contextmanager
def proxy_target(
    python: str,
    fake_port: int,
    fake_pid: int,
    plan: CpuPlan,
    workdir: Path,
    *,
    monitor: bool,
    source: Path = REPO,
    name: str | None = None,
) -> Iterator[Target]:
    """`trayagent serve` running the package found in `source` (this checkout unless comparing)."""
    name = name or ("proxy+monitor" if monitor else "proxy")
    home = workdir / name.replace("+", "-").replace("@", "-")
    home.mkdir()
    port = free_port()
    (home / "config.yaml").write_text(proxy_config(port, fake_port, monitor))
    env = isolated_env(home, source)
    # `python -m` puts the working directory first on sys.path: run from `source`, or a comparison would import
    # this checkout's package whatever PYTHONPATH says.
    added = subprocess.run(
        [python, "-m", "trayagent", "accounts", "add", "--refresh-token", "1//bench-refresh-token"],
        env=env,
        cwd=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if added.returncode != 0:
        raise RuntimeError(f"trayagent accounts add failed:\n{added.stdout}{added.stderr}")
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, "-m", "trayagent", "serve"],
            env=env,
            cwd=source,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=plan.server_preexec(),
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 30, proc, log)
        proxies = [pid for pid in children(proc.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        if len(proxies) != 1:
            raise RuntimeError(f"expected one proxy child of trayagent serve, found {proxies}")
        # The supervisor, watcher and log writer live in the serve process: not the server under test.
        pin_process(proc.pid, plan.rest)
        yield Target(
            name,
            port,
            row_requests(workdir, list(ROWS)),
            server_pids=proxies,
            fake_pid=fake_pid,
            rss_pid=proxies[0],
            note=f"trayagent serve from {source}, one account, monitor {'on' if monitor else 'off'}",
            source=source,
        )
    finally:
        stop(proc)


# -- load -----------------------------------------------------------------------------------------------


def run_cell(
    python: str, target: Target, mode: str, concurrency: int, duration: float, warmup: float, cpu: int | None = None
) -> dict[str, Any]:
    """One load run. `cpu`: the server's CPU, watched for other work and for time the hypervisor took."""
    request = target.rows[mode]
    command = [python, str(HERE / "bench_load.py"), "--port", str(target.port), "--path", request.path]
    command += ["--body-file", str(request.body_file), "--reply", request.reply, "--text", REPLY_TEXT]
    command += ["-c", str(concurrency), "-d", str(duration), "-w", str(warmup)]
    for header in [*target.headers, *request.headers]:
        command += ["--header", header]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    marks: dict[str, tuple[float, float, float, float, float]] = {}
    result: dict[str, Any] | None = None
    for line in proc.stdout:
        line = line.strip()
        if line in ("measure-start", "measure-end"):
            fake = cpu_seconds([target.fake_pid]) if target.fake_pid not in target.server_pids else 0.0
            marks[line] = (time.perf_counter(), cpu_seconds(target.server_pids), fake, *cpu_times(cpu))
        elif line.startswith("{"):
            result = json.loads(line)
    if proc.wait() != 0 or result is None:
        raise RuntimeError(f"the load generator failed on {target.name} {mode} c={concurrency}")
    if len(marks) == 2:
        (t0, s0, f0, b0, x0), (t1, s1, f1, b1, x1) = marks["measure-start"], marks["measure-end"]
        result["server_cpu_pct"] = round(100 * (s1 - s0) / (t1 - t0), 1)
        if cpu is not None:
            # Noise: busy time on the server's CPU that was not the server's, and time the hypervisor took.
            result["other_on_server_cpu_pct"] = round(max(0.0, 100 * ((b1 - b0) - (s1 - s0)) / (t1 - t0)), 1)
            result["steal_pct"] = round(100 * (x1 - x0) / (t1 - t0), 1)
        # CPU the server spent per answered request: steadier than req/s when other work shares the machine.
        answered = result["requests"] + sum(result["errors"].values())
        result["server_cpu_us_per_req"] = round(1e6 * (s1 - s0) / answered, 1) if answered else None
        if target.fake_pid not in target.server_pids:
            result["fake_cpu_pct"] = round(100 * (f1 - f0) / (t1 - t0), 1)
    result["loadgen_cpu_pct"] = round(result["loadgen_cpu_pct"], 1)
    return {"target": target.name, "mode": mode, **result}


def warm_up(python: str, target: Target, args: argparse.Namespace) -> None:
    """Load at the highest concurrency in every row, unmeasured: connections, caches, the allocator."""
    for mode in served(target, args.modes):
        run_cell(python, target, mode, max(args.concurrency), args.warmup, 0.2)


def rounds(
    python: str, targets: list[Target], args: argparse.Namespace, emit: Callable[[dict[str, Any]], None]
) -> None:
    """Every cell of every round, the targets taking turns cell by cell and the rows of one concurrency run
    back to back: a slow minute on a shared machine then hits the baseline and the proxy, the Gemini row and
    the protocol rows alike, and their ratios hold."""
    for number in range(1, args.repeat + 1):
        for concurrency in args.concurrency:
            for mode in args.modes:
                for target in targets:
                    if mode not in target.rows:
                        continue
                    # The direct target's server is the fake, on the other CPU: no server CPU to watch.
                    cpu = None if target.name == "direct" else args.server_cpu
                    cell = run_cell(python, target, mode, concurrency, args.duration, args.cell_warmup, cpu)
                    emit({**cell, "round": number})


def slice_families(target: Target, modes: list[str]) -> list[tuple[str, list[str]]]:
    """(Gemini-native row, the protocol rows with a goal against it) among the rows this target serves."""
    names = served(target, modes)
    out = []
    for base in GEMINI_ROWS:
        others = [n for n in names if ROWS[n].against == base and n != base and ROWS[n].goal]
        if base in names and others:
            out.append((base, others))
    return out


def sliced_run(
    python: str, target: Target, base: str, others: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """One load of `base` and `others` in alternating slices at the highest concurrency (bench_load --slices)."""
    rows = [
        {
            "name": name,
            "path": target.rows[name].path,
            "body_file": str(target.rows[name].body_file),
            "reply": target.rows[name].reply,
            "headers": [*target.headers, *target.rows[name].headers],
        }
        for name in (base, *others)
    ]
    plan = {
        "rows": rows,
        "slice_s": args.slice,
        "cycles": args.pairs,
        "server_pids": target.server_pids,
        "server_cpu": args.server_cpu,
    }
    plan_file = workdir / f"slices-{target.name.replace('+', '-').replace('@', '-')}-{base}.json"
    plan_file.write_text(json.dumps(plan))
    command = [python, str(HERE / "bench_load.py"), "--port", str(target.port), "--slices", str(plan_file)]
    command += ["--text", REPLY_TEXT, "-c", str(max(args.concurrency))]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the sliced load on {target.name} ({base}) failed:\n{done.stderr[-2000:]}")
    return {"target": target.name, "base": base, **json.loads(lines[-1])}


def sliced_runs(python: str, targets: list[Target], args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """Each proxy's protocol rows against their Gemini row in alternating slices, the proxies taking turns."""
    out = []
    families = {t.name: slice_families(t, args.modes) for t in targets if t.name.startswith("proxy")}
    for base in GEMINI_ROWS:
        for target in targets:
            for family_base, others in families.get(target.name, []):
                if family_base == base:
                    run = sliced_run(python, target, base, others, args, workdir)
                    print(slices_line(run), flush=True)
                    out.append(run)
    return out


def slice_pairs(run: dict[str, Any], row: str) -> list[dict[str, Any]]:
    """Each slice of `row` against the mean of the base slices on either side: the req/s ratio, the ratio of
    CPU per request (base over row: above 1 when the row costs less), and whether all three slices were clean
    (no errors, noise on the server's CPU at most NOISY_PCT)."""
    slices = run["slices"]
    pairs = []
    for at in range(1, len(slices) - 1):
        here = slices[at]
        if here["row"] != row:
            continue
        around = (slices[at - 1], slices[at + 1])
        base_rps = statistics.mean(s["rps"] for s in around)
        trio = (here, *around)
        costs = [s.get("server_cpu_us_per_req") for s in trio]
        pairs.append(
            {
                "rps_ratio": here["rps"] / base_rps if base_rps else None,
                "cpu_ratio": statistics.mean(costs[1:]) / costs[0] if all(costs) else None,  # type: ignore[type-var]
                "clean": all(not s["errors"] and (s.get("noise_pct") or 0) <= NOISY_PCT for s in trio),
            }
        )
    return pairs


def slice_summary(run: dict[str, Any], row: str) -> dict[str, Any]:
    """The median req/s ratio of `row`'s clean pairs (of all its pairs when fewer than MIN_CLEAN_PAIRS are
    clean), with its quartiles and the median CPU ratio of the same pairs."""
    pairs = slice_pairs(run, row)
    clean = [p for p in pairs if p["clean"]]
    chosen = clean if len(clean) >= MIN_CLEAN_PAIRS else pairs
    ratios = sorted(p["rps_ratio"] for p in chosen if p["rps_ratio"] is not None)
    cpu = [p["cpu_ratio"] for p in chosen if p["cpu_ratio"] is not None]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [None, None, None]
    return {
        "value": round(statistics.median(ratios), 3) if ratios else None,
        "q1": None if quartiles[0] is None else round(quartiles[0], 3),
        "q3": None if quartiles[2] is None else round(quartiles[2], 3),
        "cpu_ratio": round(statistics.median(cpu), 3) if cpu else None,
        "pairs": len(pairs),
        "clean": len(clean),
        "errors": sum(sum(s["errors"].values()) for s in run["slices"] if s["row"] == row),
    }


def slices_line(run: dict[str, Any]) -> str:
    rows = dict.fromkeys(s["row"] for s in run["slices"])
    parts = []
    for row in list(rows)[1:]:
        summary = slice_summary(run, row)
        parts.append(f"{row} {fmt(summary['value'], 3)} ({summary['clean']}/{summary['pairs']} clean)")
    return f"slices {run['target']:<14} vs {run['base']:<7} " + ", ".join(parts)


def time_frontends(python: str, targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Each proxy checkout's front ends alone, in process on the server's CPU (scripts/bench_translate.py)."""
    out: dict[str, dict[str, float]] = {}
    sources: set[Path] = set()
    for target in targets:
        if target.source is not None and target.source not in sources:
            sources.add(target.source)
            out[target.name] = measure_frontends(python, target.source, served(target, args.modes), args.server_cpu)
    return out


def served(target: Target, modes: list[str]) -> list[str]:
    return [mode for mode in modes if mode in target.rows]


def median_cells(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One cell per (target, mode, concurrency): the median of each figure over the rounds."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["target"], run["mode"], run["concurrency"]), []).append(run)
    cells = []
    for (target, mode, concurrency), group in groups.items():
        cell: dict[str, Any] = {"target": target, "mode": mode, "concurrency": concurrency, "rounds": len(group)}
        for key, value in group[0].items():
            if key in cell or key == "round":
                continue
            values = [run[key] for run in group if isinstance(run.get(key), int | float)]
            if values and isinstance(value, int | float):
                cell[key] = round(statistics.median(values), 4)
            elif key == "errors":
                cell[key] = dict(sum((Counter(run["errors"]) for run in group), Counter()))
            else:
                cell[key] = next((run[key] for run in group if run.get(key) is not None), value)
        cells.append(cell)
    return cells


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profile(python: str, target: Target, mode: str, args: argparse.Namespace) -> None:
    """An extra, unmeasured cell at the highest concurrency with py-spy sampling the server (it slows it)."""
    spy = py_spy()
    if spy is None:
        print("bench: --profile needs py-spy (pip install py-spy); skipped", flush=True)
        return
    from bench_profile import summarize

    out = Path(args.profile) / f"{target.name.replace('+', '-')}-{mode}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = max(5, int(args.duration * 2))
    # --nonblocking: pausing the server for each sample would stretch its system calls in the figures.
    command = [
        spy,
        "record",
        "--nonblocking",
        "--rate",
        "400",
        "--format",
        "raw",
        "--output",
        str(out),
        "--duration",
        str(seconds),
    ]
    recorder = subprocess.Popen(
        [*command, "--pid", str(target.server_pids[0])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(0.5)  # py-spy attaches
    run_cell(python, target, mode, max(args.concurrency), seconds, 0.0)
    _, err = recorder.communicate(timeout=seconds + 30)
    if recorder.returncode != 0 or not out.exists():
        print(f"bench: py-spy failed on {target.name}: {err.decode(errors='replace').strip()[-500:]}", flush=True)
        return
    print(summarize(out), flush=True)


# -- report ---------------------------------------------------------------------------------------------


def cell(cells: list[dict[str, Any]], target: str, mode: str, concurrency: int) -> dict[str, Any] | None:
    return next(
        (c for c in cells if c["target"] == target and c["mode"] == mode and c["concurrency"] == concurrency), None
    )


def usable(c: dict[str, Any] | None) -> bool:
    return c is not None and c["requests"] > 0 and not c["errors"]


Measure = Callable[[dict[str, Any], dict[str, Any]], float]
Cell = tuple[str, str]  # (target, mode)


def goals(
    cells: list[dict[str, Any]],
    concurrency: list[int],
    proxy: str,
    runs: list[dict[str, Any]],
    sliced: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The goals on the median cells; `per_round` shows how steady each figure was. A protocol row's ratio to
    its Gemini row is taken from the sliced runs when there are any (`sliced`): the cells' ratio is then
    shown for information as `…_cells`."""
    high, low = max(concurrency), min(concurrency)
    out: dict[str, Any] = {}

    def add(
        key: str, first: Cell, second: Cell, c: int, measure: Measure, goal: str, ok: Callable[[float], bool] | None
    ) -> None:
        x, y = cell(cells, *first, c), cell(cells, *second, c)
        if x is None or y is None:
            return
        value = round(measure(x, y), 3) if usable(x) and usable(y) else None
        out[key] = {
            "value": value,
            "goal": goal,
            "pass": None if ok is None else value is not None and ok(value),  # None: for information
            "per_round": paired(runs, first, second, c, measure),
        }

    def rps_ratio(x: dict[str, Any], y: dict[str, Any]) -> float:
        return float(x["rps"] / y["rps"])

    for mode in GEMINI_ROWS:
        add(
            f"{mode}_rps_ratio_c{high}",
            (proxy, mode),
            ("baseline", mode),
            high,
            rps_ratio,
            f">= {GOAL_RATIO:.2f}",
            lambda v: v >= GOAL_RATIO,
        )
        add(
            f"{mode}_added_p50_ms_c{low}",
            (proxy, mode),
            ("direct", mode),
            low,
            lambda x, y: float(x["p50_ms"] - y["p50_ms"]),
            f"< {GOAL_ADDED_MS:.1f} ms",
            lambda v: v < GOAL_ADDED_MS,
        )
    for row in ROWS.values():
        if row.against == row.name:
            continue
        goal, ok = (f">= {GOAL_PROTOCOL_RATIO:.2f}", lambda v: v >= GOAL_PROTOCOL_RATIO) if row.goal else ("none", None)
        key = f"{row.name}_rps_ratio_vs_{row.against}_c{high}"
        run = next((r for r in sliced or () if r["target"] == proxy and r["base"] == row.against), None)
        if run is not None and any(s["row"] == row.name for s in run["slices"]):
            summary = slice_summary(run, row.name)
            value = summary["value"] if not summary["errors"] else None
            out[key] = {
                "value": value,
                "goal": goal,
                "pass": None if ok is None else value is not None and ok(value),
                "slices": summary,
            }
            goal, ok, key = "none", None, key + "_cells"
        add(
            key,
            (proxy, row.name),
            (proxy, row.against),
            high,
            rps_ratio,
            goal,
            ok,
        )
    add(
        f"messages-stream_added_ttfb_p50_ms_c{low}",
        (proxy, "messages-stream"),
        (proxy, "stream"),
        low,
        lambda x, y: float(x["ttfb_p50_ms"] - y["ttfb_p50_ms"]),
        f"<= {GOAL_ADDED_TTFB_MS:.1f} ms",
        lambda v: v <= GOAL_ADDED_TTFB_MS,
    )
    return out


def paired(
    runs: list[dict[str, Any]], first: Cell, second: Cell, concurrency: int, measure: Measure
) -> list[float | None]:
    """`measure(first, second)` for each round, from the two cells of that round."""
    out: list[float | None] = []
    for number in sorted({run["round"] for run in runs}):
        x, y = (
            next((r for r in runs if (r["target"], r["mode"], r["concurrency"], r["round"]) == key), None)
            for key in ((*first, concurrency, number), (*second, concurrency, number))
        )
        out.append(round(measure(x, y), 3) if x is not None and y is not None and usable(x) and usable(y) else None)
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(cells: list[dict[str, Any]]) -> str:
    head = (
        f"{'target':<14} {'mode':<15} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ttfb50':>8} "
        f"{'srv cpu%':>8} {'µs/req':>7} {'fake%':>6} {'load%':>6} {'noise%':>6}  errors"
    )
    lines = [head, "-" * len(head)]
    for c in cells:
        errors = ", ".join(f"{k}×{v}" for k, v in c["errors"].items()) or ""
        lines.append(
            f"{c['target']:<14} {c['mode']:<15} {c['concurrency']:>3} {c['rps']:>9.0f} {fmt(c['p50_ms']):>8} "
            f"{fmt(c['p99_ms']):>8} {fmt(c.get('ttfb_p50_ms')):>8} {fmt(c.get('server_cpu_pct'), 0):>8} "
            f"{fmt(c.get('server_cpu_us_per_req'), 0):>7} "
            f"{fmt(c.get('fake_cpu_pct'), 0):>6} {fmt(c.get('loadgen_cpu_pct'), 0):>6} {fmt(noise(c), 0):>6}  {errors}"
        )
        if c["errors"] and c.get("error_sample"):
            lines.append(f"{'':<14} ! {c['error_sample'][:200]}")
    return "\n".join(lines)


def noise(c: dict[str, Any]) -> float | None:
    if "steal_pct" not in c:
        return None
    return float(c["other_on_server_cpu_pct"] + c["steal_pct"])


def report(results: dict[str, Any]) -> str:
    out = [table(results["cells"]), ""]
    for name, memory in results["rss_kb"].items():
        before, after = memory.get("before", {}), memory.get("after", {})
        out.append(
            f"{name} RSS: {before.get('VmRSS', 0) / 1024:.1f} MiB before, {after.get('VmRSS', 0) / 1024:.1f} MiB "
            f"after (peak {after.get('VmHWM', 0) / 1024:.1f} MiB)"
        )
    for name, timings in results["frontend_us"].items():
        shown = ", ".join(f"{row} {us:.0f}" for row, us in timings.items())
        out.append(f"{name} front ends alone, µs per request (in process, best of {BATCHES}): {shown}")
    for proxy, checks in results["goals"].items():
        out.append(f"goals for {proxy}:" + ("" if checks else " (they need the direct and baseline targets too)"))
        for key, check in checks.items():
            if check["value"] is None:
                verdict = "N/A (errors)"
            else:
                verdict = {True: "PASS", False: "FAIL", None: "(for information)"}[check["pass"]]
            spread = ", ".join(fmt(v, 3) for v in check.get("per_round", []))
            rounds_note = f"  rounds: {spread}" if len(check.get("per_round", [])) > 1 else ""
            if "slices" in check:
                summary = check["slices"]
                flag = "" if summary["clean"] >= MIN_CLEAN_PAIRS else ", too few clean: all pairs taken"
                rounds_note = (
                    f"  slices: {summary['clean']}/{summary['pairs']} pairs clean{flag}, quartiles "
                    f"{fmt(summary['q1'], 3)}–{fmt(summary['q3'], 3)}, CPU/req ratio {fmt(summary['cpu_ratio'], 3)}"
                )
            out.append(f"  {key:<43} {fmt(check['value'], 3):>8}  (goal {check['goal']})  {verdict}{rounds_note}")
    meta = results["meta"]
    out.append(f"pinning: {meta['pinning']}; load average {meta['loadavg_before']} → {meta['loadavg_after']}")
    noisy = [c for c in results["cells"] if (noise(c) or 0) > NOISY_PCT]
    if noisy:
        worst = max(noise(c) or 0 for c in noisy)
        out.append(
            f"warning: {len(noisy)} cells ran with other work or steal on the server's CPU (up to {worst:.0f}%): "
            "their figures are low; run again on a quieter machine"
        )
    return "\n".join(out)


# -- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target and mode (default 2)")
    parser.add_argument("--cell-warmup", type=float, default=0.5, help="unmeasured seconds at the start of a cell")
    parser.add_argument("--quick", action="store_true", help="1.5 s cells, short warm-ups: a smoke run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every cell; the table shows medians")
    parser.add_argument("--concurrency", default="1,32", help="comma-separated client counts (default 1,32)")
    parser.add_argument(
        "--modes",
        default=",".join(ROWS),
        help=f"a subset of the rows {','.join(ROWS)} (default all; direct and baseline serve json and stream only)",
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"a subset of {','.join(TARGETS)}")
    parser.add_argument("--json", default="bench-results.json", help="where to write the figures")
    parser.add_argument("--no-pin", action="store_true", help="leave CPU placement to the scheduler")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        type=Path,
        metavar="CHECKOUT",
        help="also run the trayagent package of another checkout (e.g. a git worktree) as target proxy@NAME, "
        "taking turns with the others: an A/B test of a change (repeatable)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=30,
        help="slices of each protocol row in the sliced runs, each between two slices of its Gemini row "
        "(default 30: a pair's ratio moves by ±10%% on a shared VM, their median by about ±2%%; 0: no sliced "
        "runs, the protocol goals come from the cells)",
    )
    parser.add_argument("--slice", type=float, default=0.5, help="seconds per slice in the sliced runs (default 0.5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes and logs (prints where)")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="after measuring, sample each server under load with py-spy; raw stacks and a summary go to DIR",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.cell_warmup = 1.5, 0.5, 0.3
        args.pairs = min(args.pairs, 3)
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",")})
    args.modes = [m for m in args.modes.split(",") if m]
    args.targets = [t for t in args.targets.split(",") if t]
    for name in args.modes:
        if name not in ROWS:
            parser.error(f"unknown mode {name!r}; choose from {', '.join(ROWS)}")
    args.modes = [name for name in ROWS if name in args.modes]  # each protocol row next to its Gemini row
    for name in args.targets:
        if name not in TARGETS:
            parser.error(f"unknown target {name!r}; choose from {', '.join(TARGETS)}")
    args.compare = [path.resolve() for path in args.compare]
    for path in args.compare:
        if not (path / "trayagent" / "__init__.py").is_file():
            parser.error(f"--compare {path}: no trayagent package there")
    return args


def git_revision() -> str:
    try:
        command = ["git", "-C", str(REPO), "describe", "--always", "--dirty"]
        rev = subprocess.run(command, capture_output=True, text=True)
        return rev.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds the with-blocks, which stop every server this run started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    python = sys.executable
    plan = CpuPlan.choose(not args.no_pin)
    args.server_cpu = plan.server
    if plan.rest is not None:
        os.sched_setaffinity(0, {plan.rest})  # inherited by the fake and the load generators
    runs: list[dict[str, Any]] = []
    rss: dict[str, dict[str, dict[str, int]]] = {}
    started = time.time()
    loadavg_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"bench: {plan.describe()}; {args.duration:g} s per cell, {args.repeat} round(s); "
        f"load average {loadavg_before}",
        flush=True,
    )

    def emit(result: dict[str, Any]) -> None:
        runs.append(result)
        line = table([result]).splitlines()[2:]
        print("\n".join(line), flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="trayagent-bench-"))
    targets: list[Target] = []
    frontend_us: dict[str, dict[str, float]] = {}
    sliced: list[dict[str, Any]] = []
    try:
        with fake_upstream(python) as (fake_port, fake), ExitStack() as stack:
            # Every server starts now (all on the server CPU; an idle one costs nothing) and takes turns.
            for name in args.targets:
                if name == "direct":
                    targets.append(direct_target(fake_port, fake.pid, workdir))
                elif name == "baseline":
                    targets.append(stack.enter_context(baseline_target(python, fake_port, fake.pid, plan, workdir)))
                else:
                    monitor = name == "proxy+monitor"
                    proxy = proxy_target(python, fake_port, fake.pid, plan, workdir, monitor=monitor)
                    targets.append(stack.enter_context(proxy))
            for source in args.compare:
                name = f"proxy@{source.name}"
                proxy = proxy_target(
                    python, fake_port, fake.pid, plan, workdir, monitor=False, source=source, name=name
                )
                targets.append(stack.enter_context(proxy))
            for target in targets:
                if target.rss_pid is not None:
                    rss[target.name] = {"before": memory_kb(target.rss_pid)}
            for target in targets:
                warm_up(python, target, args)
            frontend_us = time_frontends(python, targets, args)
            print(table([]).splitlines()[0], flush=True)
            rounds(python, targets, args, emit)
            if args.pairs > 0:
                sliced = sliced_runs(python, targets, args, workdir)
            for target in targets:
                if target.rss_pid is not None:
                    rss[target.name]["after"] = memory_kb(target.rss_pid)
            if args.profile is not None:
                for target in targets:
                    for mode in served(target, args.modes):
                        if target.name != "direct":
                            profile(python, target, mode, args)
    finally:
        if args.keep:
            print(f"bench: logs and homes kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "revision": git_revision(),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "pinning": plan.describe(),
            "duration_s": args.duration,
            "repeat": args.repeat,
            "concurrency": args.concurrency,
            "loadavg_before": loadavg_before,
            "loadavg_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            "payload": "4 SSE chunks (~90 characters of text) + usage; non-stream: one aggregated response",
            "rows": {
                name: {"path": row.path, "bytes": len(row.data()), "reply": row.reply, "about": row.about}
                for name, row in ROWS.items()
                if name in args.modes
            },
        },
        "cells": median_cells(runs),
        "runs": runs,
        "rss_kb": rss,
        "frontend_us": frontend_us,
        "sliced": sliced,
    }
    results["goals"] = {
        t.name: goals(results["cells"], args.concurrency, t.name, runs, sliced)
        for t in targets
        if t.name.startswith("proxy")
    }
    print()
    print(report(results))
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: figures written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; every server it started is stopped")
