"""The status page in headless Chromium when the proxy serves the previous config: config.yaml turned invalid,
or the file moved the proxy onto a port another program holds. The page says so, in full, in red."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.gui.test_status_page import KEY, page_for, shoot
from tests.polling import eventually
from tests.serverproc import ServeProcess, free_port, http

pytestmark = pytest.mark.timeout(120)


def save_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def status(port: int) -> dict[str, Any]:
    data: dict[str, Any] = http(port, "GET", "/api/status", headers={"Authorization": f"Bearer {KEY}"}).json()
    return data


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text())


def test_the_page_says_when_the_proxy_serves_the_previous_config(
    browser: Any,
    serve_factory: type[ServeProcess],
    home: Path,
) -> None:
    port = free_port()
    config = f"proxy:\n  port: {port}\n  auth_mode: strict\n  api_key: {KEY}\n"
    server = serve_factory(home, config).start()
    page = page_for(browser, server)
    assert page.locator("#state-dot").get_attribute("class") == "dot running"
    assert page.locator("#move-error").is_hidden()

    with socket.socket() as other:  # another program holds the port the file moves to
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        save_atomically(home / "config.yaml", config.replace(f"port: {port}", f"port: {busy}"))
        assert eventually(lambda: status(port)["move_error"], 20), server.output()
        page.wait_for_function("!document.getElementById('move-error').hidden", timeout=15000)
        assert text_of(page, "#move-error") == (
            f"The proxy could not move to http://127.0.0.1:{busy}: port {busy} is already in use on 127.0.0.1, "
            "so it keeps serving here with the previous config. "
            "Free that port, then save config.yaml again or restart the proxy to move."
        )
        assert text_of(page, "#state-line").startswith(f"Running on http://127.0.0.1:{port} (previous config)")
        assert page.locator("#state-dot").get_attribute("class") == "dot error"  # not a green "Running"
        shoot(page, "status-page-port-move-failed.png")

    # Back to the port in force, then an invalid save: the previous config still serves, and the page says why.
    save_atomically(home / "config.yaml", config)
    assert eventually(lambda: status(port)["move_error"] is None, 15), server.output()
    save_atomically(home / "config.yaml", config + "  cors: sometimes\n")
    page.wait_for_function("!document.getElementById('config-error').hidden", timeout=15000)
    assert page.locator("#move-error").is_hidden()
    assert 'proxy.cors (line 5): expected true or false, got "sometimes"' in text_of(page, "#config-error")
    assert "(previous config)" in text_of(page, "#state-line")
    shoot(page, "status-page-config-error.png")
