"""Issue 14 in a real browser: a page from a second local origin attacks the status API of a live proxy.

Headless Chromium (Debian's build, driven by Playwright) first opens the proxy's own status page, so in strict mode
it holds the page's SameSite=Strict cookie, which Chromium also sends with the attacker's requests: 127.0.0.1 on
another port is the same site. The attacker's page (served on that other port) then tries what any web page can:
HTML form posts (text/plain, urlencoded, multipart), `fetch` with `no-cors`, `fetch` with JSON (which needs a
preflight) and a plain `<img>` load, against adding an account, starting a sign-in, refreshing, reloading the key,
getting a sign-in ticket and reading the key. Every request that reaches the proxy is refused, nothing changes (no
account joins, no sign-in opens a browser, Google is not asked), and the status page itself still works.
Screenshots of both pages go to test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle
from tests.polling import eventually
from tests.serverproc import ServeProcess, http

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
KEY = "sk-crossorigin-0123456789abcdef"

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (scripts/bootstrap test installs it)", allow_module_level=True)

# The attacker's page. PROXY and TOKEN are filled in; every attempt's outcome is written into the page.
ATTACK = """<!doctype html>
<html><head><meta charset="utf-8"><title>A page on another port</title>
<style>body{font:13px sans-serif;margin:12px} iframe{width:180px;height:40px} li{margin:2px 0}</style></head>
<body><h3>Another local web page, trying the status API</h3><ul id="log"></ul><script>
const PROXY = "__PROXY__", TOKEN = "__TOKEN__";
const CHANGES = [
  ["/api/accounts", { refresh_token: TOKEN }],
  ["/api/accounts/login", {}],
  ["/api/accounts/refresh", {}],
  ["/api/key/reload", {}],
  ["/api/ui-session", {}],
];
function note(name, outcome) {
  const li = document.createElement("li");
  li.textContent = name + ": " + outcome;
  document.getElementById("log").append(li);
  return [name, outcome];
}
function formPost(path, enctype, body) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = "f" + Math.random().toString(36).slice(2);
    frame.addEventListener("load", () => resolve("form submitted"), { once: true });
    document.body.append(frame);
    const form = document.createElement("form");
    Object.assign(form, { method: "POST", action: PROXY + path, enctype, target: frame.name, hidden: true });
    // text/plain sends `name=value`: this name and value make the body the JSON the API expects.
    const json = JSON.stringify(body);
    const input = Object.assign(document.createElement("input"), { name: json.slice(0, -1) + ',"x":"', value: '"}' });
    form.append(input);
    document.body.append(form);
    form.submit();
  });
}
async function tryFetch(path, options) {
  try {
    const reply = await fetch(PROXY + path, { credentials: "include", ...options });
    return reply.type === "opaque" ? "opaque answer (unreadable)" : "READ " + reply.status + " " + await reply.text();
  } catch (error) {
    return "blocked by the browser (" + error.name + ")";
  }
}
function imageLoad(path) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve("image loaded");
    img.onerror = () => resolve("image failed");
    img.src = PROXY + path;
  });
}
(async () => {
  const results = [];
  for (const [path, body] of CHANGES) {
    for (const enctype of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      results.push(note("form " + enctype + " " + path, await formPost(path, enctype, body)));
    }
    const plain = { "Content-Type": "text/plain" };
    const text = { method: "POST", mode: "no-cors", headers: plain, body: JSON.stringify(body) };
    results.push(note("no-cors fetch " + path, await tryFetch(path, text)));
    const bare = { method: "POST", mode: "no-cors", body: JSON.stringify(body) };
    results.push(note("no-cors fetch, no type " + path, await tryFetch(path, bare)));
    const json = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    results.push(note("JSON fetch " + path, await tryFetch(path, json)));
  }
  for (const path of ["/api/key", "/api/accounts", "/api/status"]) {
    results.push(note("fetch " + path, await tryFetch(path, {})));
    results.push(note("no-cors GET " + path, await tryFetch(path, { mode: "no-cors" })));
    results.push(note("img " + path, await imageLoad(path)));
  }
  window.results = results;
  document.body.dataset.done = "true";
})();
</script></body></html>
"""


class AttackSite:
    """The second local origin: a tiny web server on another loopback port serving the attacker's page."""

    def __init__(self, page: str) -> None:
        body = page.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, name="attack-site", daemon=True)

    def __enter__(self) -> AttackSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@dataclass
class Answer:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    cookie: str


class NetworkLog:
    """Every request a page sent and the status line Chromium received for it (Chrome DevTools Protocol: unlike
    Playwright's events, this includes answers the browser then hid from the page: opaque, ORB- or CORS-blocked)."""

    def __init__(self, cdp: Any) -> None:
        self._sent: dict[str, tuple[str, str]] = {}
        self._cookies: dict[str, str] = {}
        self._received: dict[str, tuple[int, dict[str, str]]] = {}
        cdp.on("Network.requestWillBeSent", self._on_sent)
        cdp.on("Network.requestWillBeSentExtraInfo", self._on_sent_headers)
        cdp.on("Network.responseReceivedExtraInfo", self._on_received)
        cdp.send("Network.enable")

    def _on_sent(self, event: dict[str, Any]) -> None:
        self._sent[event["requestId"]] = (event["request"]["method"], event["request"]["url"])

    def _on_sent_headers(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event["headers"].items()}
        self._cookies[event["requestId"]] = headers.get("cookie", "")

    def _on_received(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event["headers"].items()}
        self._received[event["requestId"]] = (event["statusCode"], headers)

    def answers(self, base: str) -> list[Answer]:
        found = []
        for request_id, (status, headers) in list(self._received.items()):
            method, url = self._sent.get(request_id, ("?", ""))
            if url.startswith(base):
                found.append(Answer(method, url, status, headers, self._cookies.get(request_id, "")))
        return found


def start_proxy(
    serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle, mode: str, tmp_path: Path
) -> ServeProcess:
    extra = f"  auth_mode: strict\n  api_key: {KEY}\n" if mode == "strict" else ""  # else the default: auto
    config = google.config_yaml(port).replace(f"  port: {port}\n", f"  port: {port}\n{extra}")
    server = serve_factory(home, config)
    # A sign-in that started would open this "browser", which signs in as the attacker's second account.
    server.env["BROWSER"] = f"{sys.executable} -m tests.fakes.browser %s"
    server.env["FAKE_BROWSER_LOG"] = str(tmp_path / "browser.log")
    return server.start()


def api(server: ServeProcess, method: str, path: str, body: Any = None) -> Any:
    """The user's own program, with the key."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    reply = http(server.port, method, path, body=data, headers=headers, timeout=30)
    assert reply.status == 200, reply.body
    return reply.json()


def emails(server: ServeProcess) -> list[str]:
    return [a["email"] for a in api(server, "GET", "/api/accounts")["accounts"]]


def open_status_page(context: Any, server: ServeProcess, mode: str) -> Any:
    base = f"http://127.0.0.1:{server.port}"
    page = context.new_page()
    if mode == "strict":
        ticket = api(server, "POST", "/api/ui-session")["ticket"]
        page.goto(f"{base}/ui/login?ticket={ticket}")
    else:
        page.goto(f"{base}/ui/")
    page.wait_for_function("document.body.dataset.authenticated === 'true'", timeout=15000)
    return page


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_a_page_on_another_local_origin_changes_nothing(
    browser: Any,
    serve_factory: type[ServeProcess],
    home: Path,
    port: int,
    google: FakeGoogle,
    tmp_path: Path,
    mode: str,
) -> None:
    server = start_proxy(serve_factory, home, port, google, mode, tmp_path)
    google.add_account("alice@example.com", project="p-alice")
    api(server, "POST", "/api/accounts", {"refresh_token": google.issue_refresh_token("alice@example.com")})
    # The attacker's accounts exist at Google: any request that got through would really add one.
    google.add_account("mallory@example.com", project="p-mallory")
    google.add_account("mallet@example.com", project="p-mallet")
    google.login_as = "mallet@example.com"
    refreshes = len(google.calls_to("fetchAvailableModels"))

    context = browser.new_context(viewport={"width": 800, "height": 900}, bypass_csp=True)
    status_page = open_status_page(context, server, mode)
    if mode == "strict":
        assert [c["name"] for c in context.cookies()] == ["trayagent_ui"]  # sent with the attacker's requests too

    attack = context.new_page()
    network = NetworkLog(context.new_cdp_session(attack))
    proxy_base = f"http://127.0.0.1:{server.port}"
    token = google.issue_refresh_token("mallory@example.com")
    page = ATTACK.replace("__PROXY__", proxy_base).replace("__TOKEN__", token)
    with AttackSite(page) as site:
        attack.goto(site.url)
        attack.wait_for_function("document.body.dataset.done === 'true'", timeout=60000)
        results = dict(attack.evaluate("window.results"))
        ARTIFACTS.mkdir(exist_ok=True)
        attack.screenshot(path=str(ARTIFACTS / f"cross-origin-attack-{mode}.png"), full_page=True)

    # What the page could see: nothing readable, every JSON request stopped at the preflight.
    assert len(results) == 5 * 6 + 3 * 3, results
    assert not [name for name, outcome in results.items() if outcome.startswith("READ")], results
    assert all(outcome.startswith("blocked") for name, outcome in results.items() if name.startswith("JSON")), results
    assert results["fetch /api/key"].startswith("blocked") and results["img /api/key"] == "image failed"

    # What the proxy answered, as Chromium received it: 403 to every request that reached it (5 kinds of POST to
    # each of the 5 changes, 3 kinds of GET to each of 3 reads), and no preflight granted.
    def settled() -> list[Answer] | None:
        attack.evaluate("0")  # a round trip, so Playwright delivers the DevTools events that came before it
        found = network.answers(proxy_base)
        return found if len(found) >= 25 + 9 + 5 else None

    answers = eventually(settled)
    assert answers, network.answers(proxy_base)
    posts = [a for a in answers if a.method == "POST"]
    gets = [a for a in answers if a.method == "GET"]
    assert len(posts) == 25 and len(gets) == 9, answers
    assert {a.status for a in posts + gets} == {403}, answers
    preflights = [a for a in answers if a.method == "OPTIONS"]
    assert len(preflights) == 5 and not [h for a in preflights for h in a.headers if h.startswith("access-control-")]
    if mode == "strict":
        # The cookie rode along (same site): it is the origin rule, not SameSite, that stopped these.
        assert all("trayagent_ui=" in a.cookie for a in posts), [a.cookie for a in posts]
    # Nothing changed: no account joined, no sign-in opened a browser, Google was not asked to refresh.
    assert emails(server) == ["alice@example.com"]
    assert not (tmp_path / "browser.log").exists()
    assert not google.calls_to("authorize")
    assert len(google.calls_to("fetchAvailableModels")) == refreshes

    # The status page itself still works: refresh the quota, add an account by refresh token.
    status_page.bring_to_front()
    status_page.click("#refresh-accounts")
    status_page.wait_for_function("document.getElementById('toast').textContent === 'Quota refreshed'", timeout=20000)
    assert len(google.calls_to("fetchAvailableModels")) > refreshes
    google.add_account("bob@example.com", project="p-bob")
    status_page.click("#tab-add")
    status_page.fill("#refresh-token", google.issue_refresh_token("bob@example.com"))
    status_page.click("#token-form button")
    status_page.wait_for_function(
        "document.getElementById('token-result').textContent.startsWith('Added bob@example.com')", timeout=20000
    )
    assert emails(server) == ["alice@example.com", "bob@example.com"]
    status_page.click("#tab-status")
    status_page.wait_for_function("document.querySelectorAll('#accounts button.email').length === 2")  # masked
    status_page.screenshot(path=str(ARTIFACTS / f"cross-origin-status-page-{mode}.png"), full_page=True)
    context.close()
