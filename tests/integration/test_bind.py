"""The listening socket: 127.0.0.1 only without LAN access, 0.0.0.0 with it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.serverproc import ServeProcess, free_port


def listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on `port`, read from the kernel's socket table."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:  # IPv4, little-endian
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add(f"ipv6:{address}")
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
@pytest.mark.timeout(60)
@pytest.mark.parametrize(("lan", "expected"), [(False, {"127.0.0.1"}), (True, {"0.0.0.0"})])
def test_bind_address_follows_lan_access(home: Path, lan: bool, expected: set[str]) -> None:
    port = free_port()
    server = ServeProcess(home, f"proxy:\n  port: {port}\n  allow_lan_access: {str(lan).lower()}\n").start()
    try:
        assert listening_addresses(port) == expected
        assert f"listening on http://{expected.pop()}:{port}" in server.output()
    finally:
        assert server.stop() == 0
