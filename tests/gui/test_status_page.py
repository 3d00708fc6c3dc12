"""The status page in headless Chromium (Debian's build, driven by Playwright) against a live proxy and the
fake Google: signing in without the key in a URL, state, accounts, requests explained, copy-key, and
adding accounts by refresh token and by the Google sign-in. Screenshots go to test-artifacts/.

The proxy is in-process (tests/inprocess.py), one per test: the page, not the process, is the subject."""

from __future__ import annotations

import json
import shutil
import sys
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy
from tests.polling import eventually
from tests.serverproc import ServeProcess, http, run_cli

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
KEY = "sk-statuspage-0123456789abcdef"
GEMINI = "/v1beta/models/gemini-2.5-flash:generateContent"
ONE_TURN = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (scripts/bootstrap test installs it)", allow_module_level=True)


# Pages get `bypass_csp`: Playwright's waits evaluate strings, which the page's CSP (no eval) forbids.
@pytest.fixture
def proxy(home: Path, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessProxy]:
    """A proxy in strict mode (so the page's cookie matters), with the fake browser for Google sign-ins: this
    process's system browser, as the proxy runs here."""
    monkeypatch.setenv("BROWSER", f"{sys.executable} {REPO / 'tests' / 'fakes' / 'browser.py'} %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # the webbrowser module reads BROWSER on its next use
    monkeypatch.setattr(webbrowser, "_browsers", {})
    with InProcessProxy(home, google, key=KEY) as server:
        yield server


def page_for(browser: Any, server: InProcessProxy | ServeProcess, path: str = "/ui/") -> Any:
    """A signed-in page, the way the tray's window opens it: key → one-time ticket → cookie."""
    context = browser.new_context(viewport={"width": 420, "height": 640}, bypass_csp=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base(server))
    ticket = json.loads(post(server, "/api/ui-session").body)["ticket"]
    page = context.new_page()
    page.goto(f"{base(server)}/ui/login?ticket={ticket}&next={path}")
    page.wait_for_function("document.body.dataset.authenticated === 'true'", timeout=15000)
    return page


def base(server: InProcessProxy | ServeProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


def post(server: InProcessProxy | ServeProcess, path: str, body: bytes = b"", key: str | None = KEY) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    return http(server.port, "POST", path, body=body, headers=headers, timeout=30)


def add_account(server: InProcessProxy | ServeProcess, google: FakeGoogle, email: str) -> None:
    """Sign `email` in: through an in-process proxy's registry, or with the CLI beside a `trayagent serve`."""
    google.add_account(email, project="p-" + email.split("@")[0])
    if isinstance(server, InProcessProxy):
        server.add_account(email)
    else:
        added = run_cli(server.env, "accounts", "add", "--refresh-token", google.issue_refresh_token(email))
        assert added.returncode == 0, added.stderr
    headers = {"Authorization": f"Bearer {KEY}"}

    def available() -> int:
        return int(json.loads(http(server.port, "GET", "/api/status", headers=headers).body)["accounts"]["available"])

    assert eventually(lambda: available() >= 1), "the proxy did not pick the account up"


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_without_a_session_the_page_asks_for_the_key_and_a_ticket_is_single_use(
    browser: Any, proxy: InProcessProxy
) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 640}, bypass_csp=True)
    reply = page.goto(f"{base(proxy)}/ui/")
    assert reply.status == 401
    assert page.locator("#signin").is_visible()
    assert http(proxy.port, "GET", "/api/status").status == 401  # nothing leaks without the key or cookie

    page.fill("#key", "sk-wrong-00000000000")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('problem').textContent.length > 0")
    assert "not this proxy's key" in page.text_content("#problem")
    shoot(page, "status-page-signin.png")

    page.fill("#key", KEY)
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.authenticated === 'true'", timeout=15000)
    assert page.url.endswith("/ui/") and "ticket" not in page.url and KEY not in page.url
    cookie = next(c for c in page.context.cookies() if c["name"] == "trayagent_ui")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # The cookie opens the status API, never the AI routes.
    header = {"Cookie": f"trayagent_ui={cookie['value']}"}
    assert http(proxy.port, "GET", "/api/status", headers=header).status == 200
    assert http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=header).status == 401

    ticket = json.loads(post(proxy, "/api/ui-session").body)["ticket"]
    first = http(proxy.port, "GET", f"/ui/login?ticket={ticket}")
    assert first.status == 303 and "trayagent_ui=" in first.headers["set-cookie"]
    again = http(proxy.port, "GET", f"/ui/login?ticket={ticket}")
    assert again.status == 401 and b"expired or was already used" in again.body
    assert http(proxy.port, "GET", "/ui/login?ticket=x&next=//evil.example/").status == 401
    evil = http(
        proxy.port,
        "GET",
        f"/ui/login?ticket={json.loads(post(proxy, '/api/ui-session').body)['ticket']}&next=//evil.example/",
    )
    assert evil.headers["location"] == "/ui/"


def test_the_page_shows_state_accounts_and_requests_with_failures_explained(
    browser: Any, proxy: InProcessProxy, google: FakeGoogle
) -> None:
    add_account(proxy, google, "alice@example.com")
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    assert http(proxy.port, "GET", "/api/status", headers=headers).status == 200
    for _ in range(3):
        ok = http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=headers, timeout=30)
        assert ok.status == 200, ok.body
    google.fail("streamGenerateContent", 429, reason="RATE_LIMIT_EXCEEDED", retry_delay="50s")
    failed = http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=headers, timeout=30)
    assert failed.status == 429

    page = page_for(browser, proxy)
    page.wait_for_function("document.querySelectorAll('#requests li').length >= 4", timeout=15000)
    state = page.text_content("#state-line")
    assert "Running on http://127.0.0.1" in state and "1/1 account(s) ready" in state
    assert page.text_content("#urls").count(f"http://127.0.0.1:{proxy.port}") == 3
    assert f"http://127.0.0.1:{proxy.port}/v1" in page.text_content("#urls")
    assert "al***@ex***" in page.text_content("#accounts")  # masked until clicked (test_status_page_ux.py)
    assert page.locator("#accounts meter").count() >= 1
    assert page.locator("#accounts .badge").first.text_content() in ("rate", "ok")
    why = page.text_content("#requests li.failed .why")
    assert why.startswith("All accounts busy (quota or rate limit)") and "rate limited" in why
    assert page.locator("#chart rect").count() >= 1
    assert KEY not in page.content()  # the key is masked until asked for
    shoot(page, "status-page.png")

    page.click("#copy-key")
    page.wait_for_function("document.getElementById('toast').textContent === 'API key copied'")
    assert page.evaluate("navigator.clipboard.readText()") == KEY


def test_add_an_account_by_refresh_token(browser: Any, proxy: InProcessProxy, google: FakeGoogle) -> None:
    google.add_account("bob@example.com", project="p-bob")
    page = page_for(browser, proxy, "/ui/%23add")
    assert page.locator("#view-add").is_visible() and not page.locator("#view-status").is_visible()

    page.fill("#refresh-token", "1//not-a-real-token")
    page.click("#token-form button")
    page.wait_for_function("document.getElementById('token-result').className === 'problem'", timeout=20000)
    assert "refresh token does not work" in page.text_content("#token-result")

    page.fill("#refresh-token", google.issue_refresh_token("bob@example.com"))
    page.click("#token-form button")
    page.wait_for_function("document.getElementById('token-result').textContent.startsWith('Added')", timeout=20000)
    assert "bob@example.com" in page.text_content("#token-result")
    page.click("#tab-status")
    page.wait_for_function("document.getElementById('accounts').textContent.includes('bo***@ex***')")


def test_add_an_account_with_the_google_sign_in(browser: Any, proxy: InProcessProxy, google: FakeGoogle) -> None:
    google.add_account("carol@example.com", project="p-carol")
    google.login_as = "carol@example.com"
    page = page_for(browser, proxy, "/ui/%23add")
    page.click("#google-login")
    page.wait_for_function("document.getElementById('login-url').value.startsWith('http')", timeout=15000)
    assert "code_challenge=" in page.input_value("#login-url")
    page.wait_for_function(
        "document.getElementById('login-state').textContent.startsWith('Added carol@example.com')", timeout=30000
    )
    shoot(page, "status-page-add-account.png")
    accounts = json.loads(http(proxy.port, "GET", "/api/accounts", headers={"Authorization": f"Bearer {KEY}"}).body)
    assert [a["email"] for a in accounts["accounts"]] == ["carol@example.com"]
