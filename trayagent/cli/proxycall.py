"""The CLI asking the local proxy: at the address its agent reports, and never taking another program for it.

The agent's service record (supervision/servicerecord.py) says where the proxy really serves — after a
failed port move that is not the port config.yaml names, and that port may be another program's. Without a
record (no agent runs for this data folder) the config's port is asked. Either way only an answer that
names itself trayagent (`"service": "trayagent"`) counts as the proxy.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from trayagent import SERVICE_NAME
from trayagent.config import Config
from trayagent.errors import ServeError
from trayagent.files.instancelock import InstanceLock
from trayagent.paths import Paths
from trayagent.supervision.servicerecord import ServiceRecord, read_record


class NotTrayagent(ServeError):
    """Something answers on the port, but it is not a trayagent proxy."""


@dataclass(frozen=True, slots=True)
class ProxyTarget:
    port: int | None  # where to ask; None: the agent runs but no proxy serves (`why_not` says why)
    record: ServiceRecord | None  # what the agent reports, when one runs for this data folder
    agent: str | None = None  # "the tray agent, pid 1234"
    why_not: str | None = None


def locate(paths: Paths, config: Config) -> ProxyTarget:
    record = read_record(paths.data_dir)
    if record is None:
        return ProxyTarget(config.proxy.port, None)
    agent = InstanceLock(paths.data_dir).holder()
    port = urllib.parse.urlsplit(record.address).port if record.address else None
    if port is not None:
        return ProxyTarget(port, record, agent)
    return ProxyTarget(None, record, agent, _why_not_serving(record, paths))


def _why_not_serving(record: ServiceRecord, paths: Paths) -> str:
    name = paths.config_file.name
    if record.config_text is None and record.config_error:
        return f"{name} is invalid ({record.config_error}); the proxy starts by itself once the file is valid"
    if record.state == "starting":
        reason = record.reason or "starting"
        return f"the proxy is {reason}" if reason.startswith("starting") else f"the proxy is starting ({reason})"
    if record.state == "error":
        return f"the proxy stopped on an error: {record.reason}"
    return "the proxy is stopped (Start proxy in the tray menu starts it)"


def call(target: ProxyTarget, method: str, path: str, key: str) -> dict[str, Any] | None:
    """Ask the proxy at `target`; None when nothing answers there. Raises NotTrayagent for a stranger."""
    if target.port is None:
        return None
    port = target.port
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "POST":
        headers["Content-Type"] = "application/json"  # the status API takes changes as JSON only
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        headers=headers,
        data=b"{}" if method == "POST" else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            body = reply.read()
    except urllib.error.HTTPError as exc:
        if target.record is None:
            raise NotTrayagent(
                f"port {port} answered {exc.code} to {path}: that is not a trayagent proxy of this data folder"
            ) from None
        raise ServeError(f"the proxy on port {port} answered {exc.code} to {path}") from None
    except (OSError, ValueError):
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("service") != SERVICE_NAME:
        raise NotTrayagent(f"port {port} answers, but not as trayagent: another program holds it")
    return data
