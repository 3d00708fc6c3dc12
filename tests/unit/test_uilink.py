"""The status page's sign-in link (pure parts) and which pywebview backend the window asks for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from trayagent.window.statuswindow import default_gui
from trayagent.window.uilink import ProxyEndpoint, check_page_path, sign_in_url
from trayagent.window.windowchild import Page


def test_the_sign_in_link_carries_the_ticket_and_the_view_never_the_key() -> None:
    endpoint = ProxyEndpoint(8045, "sk-secret")
    url = sign_in_url(endpoint.origin, "t1ck3t", "/ui/#add")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8045", "/ui/login")
    assert parse_qs(parts.query) == {"ticket": ["t1ck3t"], "next": ["/ui/#add"]}
    assert "sk-secret" not in url and "sk-secret" not in repr(endpoint)


@pytest.mark.parametrize("path", ["/v1/models", "//evil.example/ui/", "/ui", "https://x/ui/", "/ui/\\x"])
def test_only_status_page_paths(path: str) -> None:
    with pytest.raises(ValueError):
        check_page_path(path)


def test_pages() -> None:
    signed = Page(origin="http://127.0.0.1:1", path="/ui/#add", sign_in_url="http://127.0.0.1:1/ui/login?ticket=t")
    assert signed.first_url.endswith("ticket=t") and signed.address == "http://127.0.0.1:1/ui/#add"
    plain = Page(origin="http://127.0.0.1:1")
    assert plain.first_url == plain.address == "http://127.0.0.1:1/ui/"


def test_gtk_on_linux_pywebviews_choice_elsewhere() -> None:
    assert default_gui("linux") == "gtk"
    assert default_gui("darwin") is None and default_gui("win32") is None
