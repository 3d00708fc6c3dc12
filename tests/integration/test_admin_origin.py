"""The status API answers its own page and programs, never another web page (issue 14), over real HTTP.

Requests are written the way browsers send a page's requests: a form post or a `no-cors` fetch carries `Origin` and
a `text/plain`, form or multipart body; a subresource carries `Sec-Fetch-Site`. Each is refused with 403 (or 415 for
a change not sent as JSON) in the admin error shape, and nothing changes; the page's own requests and programs
(no `Origin`, no `Sec-Fetch-*`) pass as before. The real-browser proof is tests/gui/test_cross_origin_page.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.serverproc import Reply, http

pytestmark = pytest.mark.timeout(60)

KEY = "sk-origin-0123456789abcdef"
# A second local origin: same site as the proxy (ports do not count), other origin. A fixed port below the
# ephemeral range, so it is never the proxy's and the test ids are the same in every pytest-xdist worker.
OTHER_PORT = 9
FOREIGN = ["http://evil.example", "null", f"http://127.0.0.1:{OTHER_PORT}", f"http://localhost:{OTHER_PORT}"]
SIMPLE_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
READS = ["/api/key", "/api/accounts", "/api/status", "/api/logs", "/api/stats", "/metrics", "/api/logs/1"]


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogle]:
    google = FakeGoogle().start()
    yield google
    google.stop()


def started(home: Path, google: FakeGoogle, mode: str, proxy_yaml: str = "") -> Iterator[InProcessProxy]:
    proxy = InProcessProxy(home, google, key=KEY, auth_mode=mode, proxy_yaml=proxy_yaml).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle) -> Iterator[InProcessProxy]:
    """The default on a desktop (auto with LAN off is off): no key from this machine."""
    yield from started(tmp_path_factory.mktemp("origin-off"), fake_google, "off")


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle) -> Iterator[InProcessProxy]:
    yield from started(tmp_path_factory.mktemp("origin-strict"), fake_google, "strict")


@pytest.fixture(scope="module")
def off_on_lan(tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle) -> Iterator[InProcessProxy]:
    yield from started(tmp_path_factory.mktemp("origin-lan"), fake_google, "off", "  allow_lan_access: true\n")


def call(proxy: InProcessProxy, method: str, path: str, body: bytes | None = None, **headers: str) -> Reply:
    """A request without the key (header names with `_` for `-`)."""
    return http(proxy.port, method, path, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


def refused(reply: Reply, status: int, *words: str) -> str:
    assert reply.status == status, (reply.status, reply.body[:300])
    error = reply.json()["error"]  # the OpenAI shape, like every /api error
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    for word in words:
        assert word in error["message"], error["message"]
    return str(error["message"])


def emails(proxy: InProcessProxy) -> list[str]:
    return [a["email"] for a in proxy.request("GET", "/api/accounts").json()["accounts"]]


def own(proxy: InProcessProxy) -> str:
    return proxy.base


CHANGES = [
    ("/api/accounts", "refresh_token"),
    ("/api/accounts/login", "open_browser"),
    ("/api/accounts/refresh", None),
    ("/api/key/reload", None),
    ("/api/ui-session", None),
    ("/api/ui-logout", None),
]


@pytest.mark.parametrize("origin", FOREIGN)
@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_a_web_page_cannot_change_anything_without_the_key(
    off: InProcessProxy, fake_google: FakeGoogle, origin: str, content_type: str
) -> None:
    """A form post / no-cors fetch from another page: 403 on every change, the attacker's account never joins."""
    fake_google.add_account("mallory@example.com", project="p-mallory")
    token = fake_google.issue_refresh_token("mallory@example.com")
    before = len(fake_google.calls_to("fetchAvailableModels"))
    for path, field in CHANGES:
        body = json.dumps({"refresh_token": token} if field == "refresh_token" else {"open_browser": False}).encode()
        reply = call(off, "POST", path, body, Origin=origin, Content_Type=content_type)
        where = "Origin: null" if origin == "null" else origin
        refused(reply, 403, "does not answer web pages from", where, "or a program that sends the API key")
    assert "mallory@example.com" not in emails(off)
    assert len(fake_google.calls_to("fetchAvailableModels")) == before  # no refresh reached Google


@pytest.mark.parametrize("site", ["cross-site", "same-site", "same-origin-ish"])
def test_requests_another_page_makes_are_refused_by_sec_fetch_site(off: InProcessProxy, site: str) -> None:
    """`<img>`/`<script>` loads and no-cors GETs carry no Origin, only Sec-Fetch-Site."""
    for path in READS:
        refused(call(off, "GET", path, Sec_Fetch_Site=site, Sec_Fetch_Mode="no-cors"), 403, f"Sec-Fetch-Site: {site}")
    reply = call(off, "POST", "/api/accounts/refresh", b"{}", Sec_Fetch_Site=site, Content_Type="application/json")
    refused(reply, 403, "other web pages")


@pytest.mark.parametrize("origin", FOREIGN)
def test_another_page_cannot_read_admin_data(off: InProcessProxy, origin: str) -> None:
    for path in READS:
        assert call(off, "GET", path, Origin=origin).status == 403, path
    assert call(off, "DELETE", "/api/accounts/a@example.com", Origin=origin).status == 403
    assert call(off, "DELETE", "/api/accounts/login/x", Origin=origin).status == 403


def test_a_change_must_be_sent_as_json(off: InProcessProxy) -> None:
    for content_type in [None, *SIMPLE_TYPES, "application/jsonx", "text/json"]:
        headers = {"Content_Type": content_type} if content_type else {}
        got = content_type or "no Content-Type"
        for path, _ in CHANGES:
            reply = call(off, "POST", path, b"{}", **headers)
            refused(reply, 415, f"POST {path} takes a JSON body", "Content-Type: application/json", got)
    for content_type in ["application/json", "Application/JSON; charset=utf-8"]:
        reply = call(off, "POST", "/api/accounts/refresh", b"", Content_Type=content_type)
        assert reply.status == 200, reply.body  # an empty JSON body is the same as {}


def test_the_status_page_and_programs_still_pass(off: InProcessProxy) -> None:
    # The page's own requests: same origin (Chrome drops Origin on same-origin GETs), JSON for changes.
    for path in READS[:-1]:
        assert call(off, "GET", path, Sec_Fetch_Site="same-origin", Sec_Fetch_Mode="cors").status == 200, path
        assert call(off, "GET", path, Origin=own(off), Sec_Fetch_Site="same-origin").status == 200, path
    page = call(off, "POST", "/api/ui-session", b"{}", Origin=own(off), Content_Type="application/json")
    assert page.status == 200 and page.json()["ticket"]
    by_name = http(
        off.port,
        "POST",
        "/api/accounts/refresh",
        body=b"{}",
        headers={"Origin": f"http://localhost:{off.port}", "Host": f"localhost:{off.port}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    assert by_name.status == 200, by_name.body
    # A typed address or bookmark (Sec-Fetch-Site: none), and a program that sends no browser headers at all.
    assert call(off, "GET", "/api/status", Sec_Fetch_Site="none", Sec_Fetch_Mode="navigate").status == 200
    assert call(off, "GET", "/api/status").status == 200
    assert call(off, "POST", "/api/key/reload", b"", Content_Type="application/json").status == 200


def test_a_link_from_another_site_opens_the_status_page_but_not_its_data(off: InProcessProxy) -> None:
    link = {"Sec_Fetch_Site": "cross-site", "Sec_Fetch_Mode": "navigate", "Sec_Fetch_Dest": "document"}
    page = call(off, "GET", "/ui/", **link)
    assert page.status == 200 and b"<html" in page.body
    refused(call(off, "GET", "/api/key", **link), 403, "Sec-Fetch-Site: cross-site")
    refused(call(off, "GET", "/metrics", **link), 403, "Sec-Fetch-Site: cross-site")
    # A form is a navigation too, but a POST: its Origin gives it away.
    form = call(off, "POST", "/ui/", b"a=b", Origin="http://evil.example", Content_Type="text/plain", **link)
    assert form.status == 403


def test_the_key_is_what_lets_a_program_in_from_anywhere(off: InProcessProxy) -> None:
    """A request with the right key passes whatever its headers say: no web page can send the key (only a
    preflight could allow that header, and the status API never grants one). A wrong key counts for nothing."""
    keyed = {"x-api-key": KEY, "Origin": "http://evil.example", "Content-Type": "text/plain"}
    assert http(off.port, "POST", "/api/key/reload", body=b"", headers=keyed).status == 200
    wrong = {**keyed, "x-api-key": "sk-wrong-0000000000"}
    assert http(off.port, "POST", "/api/key/reload", body=b"", headers=wrong).status == 403


def test_the_status_page_cookie_does_not_let_another_page_in(strict: InProcessProxy) -> None:
    """Strict mode: the page's SameSite=Strict cookie is sent by every page on 127.0.0.1 (ports are one site),
    so the cookie alone must not be enough."""
    ticket = strict.request("POST", "/api/ui-session", headers={"Content-Type": "application/json"}).json()["ticket"]
    login = http(strict.port, "GET", f"/ui/login?ticket={ticket}")
    assert login.status == 303
    cookie = {"Cookie": login.headers["set-cookie"].split(";", 1)[0]}
    json_type = {"Content-Type": "application/json"}

    def with_cookie(method: str, path: str, **headers: str) -> Reply:
        return http(strict.port, method, path, body=b"{}" if method == "POST" else None, headers={**cookie, **headers})

    assert with_cookie("GET", "/api/key", **{"Sec-Fetch-Site": "same-origin"}).status == 200
    assert with_cookie("POST", "/api/accounts/refresh", Origin=strict.base, **json_type).status == 200
    for origin in FOREIGN:
        refused(with_cookie("POST", "/api/ui-session", Origin=origin, **json_type), 403, "does not answer web pages")
        refused(with_cookie("GET", "/api/key", Origin=origin), 403, "does not answer web pages")
    refused(with_cookie("GET", "/api/key", **{"Sec-Fetch-Site": "same-site"}), 403, "Sec-Fetch-Site: same-site")
    refused(with_cookie("POST", "/api/accounts/refresh", Origin=strict.base, **{"Content-Type": "text/plain"}), 415)
    # Without the cookie or the key, the key is asked for first, as before.
    assert call(strict, "GET", "/api/key", Origin="http://evil.example").status == 401


def test_without_the_host_check_keyless_admin_needs_a_loopback_name(off_on_lan: InProcessProxy) -> None:
    """auth_mode off with LAN access: no Host check, so a page could reach the status API through DNS rebinding
    (its own name resolved to 127.0.0.1, its Origin then matches the Host). Without the key, loopback names only."""
    rebound = f"evil.example:{off_on_lan.port}"
    for path in ("/api/key", "/api/status"):
        reply = call(off_on_lan, "GET", path, Host=rebound)
        refused(reply, 403, f"Host '{rebound}' is not a loopback name", "without the API key")
    post = call(off_on_lan, "POST", "/api/accounts/refresh", b"{}", Host=rebound, Origin=f"http://{rebound}",
                Content_Type="application/json")  # fmt: skip
    assert post.status == 403
    assert call(off_on_lan, "GET", "/api/key").status == 200  # 127.0.0.1 from this machine, as before
    keyed = http(off_on_lan.port, "GET", "/api/key", headers={"Host": rebound, "x-api-key": KEY})
    assert keyed.status == 200
    # The AI routes are open to the LAN in this mode; only the status API is guarded.
    assert call(off_on_lan, "GET", "/v1/models", Host=rebound).status == 200
