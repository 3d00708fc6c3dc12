"""The status page as a demanding user sees it, in headless Chromium against a live `trayagent serve`: emails masked
until clicked, 24-hour times like the CLI, model names and status pills that keep their shape, a token chart with
scales and hover values, words that fit a proxy without a tray, and sign-in messages that say what happened.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle
from tests.gui.test_status_page import (
    GEMINI,
    KEY,
    ONE_TURN,
    add_account,
    base,
    page_for,
    post,
    shoot,
)
from tests.polling import eventually
from tests.serverproc import ServeProcess, http, run_cli

pytestmark = pytest.mark.timeout(120)

AUTH = {"Authorization": f"Bearer {KEY}"}
LONG_MODEL = "claude-sonnet-4-6"


def strict_config(google: FakeGoogle, port: int) -> str:
    extra = f"  auth_mode: strict\n  api_key: {KEY}\n"
    return google.config_yaml(port).replace(f"  port: {port}\n", f"  port: {port}\n{extra}")


@pytest.fixture
def proxy(serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle) -> ServeProcess:
    server = serve_factory(home, strict_config(google, port))
    server.env["BROWSER"] = f"{sys.executable} -m tests.fakes.browser %s"
    return server.start()


def status(server: ServeProcess) -> dict[str, Any]:
    return dict(json.loads(http(server.port, "GET", "/api/status", headers=AUTH).body))


def test_emails_are_masked_until_clicked(browser: Any, proxy: ServeProcess, google: FakeGoogle) -> None:
    add_account(proxy, google, "alice.wonderland@example.com")
    page = page_for(browser, proxy)
    page.wait_for_function("document.querySelectorAll('#accounts .email').length === 1", timeout=15000)
    assert page.text_content("#accounts .email") == "al***@ex***"
    assert "alice.wonderland@example.com" not in page.text_content("body")
    shoot(page, "status-page-masked.png")

    page.click("#accounts .email")
    assert page.text_content("#accounts .email") == "alice.wonderland@example.com"
    page.wait_for_timeout(3000)  # a poll re-renders the list: the address stays shown
    assert page.text_content("#accounts .email") == "alice.wonderland@example.com"
    page.click("#accounts .email")
    assert page.text_content("#accounts .email") == "al***@ex***"


def test_times_are_24_hour_as_in_the_cli_and_names_and_pills_keep_their_shape(
    browser: Any, proxy: ServeProcess, google: FakeGoogle
) -> None:
    # A reset late in the evening tells 24-hour time (21:40) from 12-hour (09:40 PM) whatever the hour now.
    evening = time.mktime(time.localtime()[:3] + (21, 40, 0, 0, 0, -1))
    evening += 86400 if evening < time.time() + 600 else 0
    account = google.add_account("bob.builder.with.a.long.address@example.com", project="p-bob")
    account.models[LONG_MODEL]["resetTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(evening))
    added = run_cli(proxy.env, "accounts", "add", "--refresh-token", google.issue_refresh_token(account.email))
    assert added.returncode == 0, added.stderr
    assert eventually(lambda: status(proxy)["accounts"]["available"] == 1), "the proxy did not pick the account up"
    assert http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=AUTH, timeout=30).status == 200

    cli = run_cli(proxy.env, "accounts", "list")
    assert re.search(r"\b21:40\b", cli.stdout), cli.stdout  # what the CLI prints
    page = page_for(browser, proxy)
    page.wait_for_function("document.querySelectorAll('#requests li').length >= 1", timeout=15000)
    quota = page.text_content("#accounts .quota")
    assert re.search(r"resets (\w{3} \d{2} )?21:40 \(in ", quota), quota
    assert not re.search(r"\b(AM|PM)\b", page.text_content("body"))
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} · \d+ ms", page.text_content("#requests li > span:last-child"))

    # Narrow, with the long address shown: the header wraps, the pill does not grow, names stay whole.
    page.set_viewport_size({"width": 340, "height": 640})
    page.click("#accounts .email")
    shoot(page, "status-page-narrow.png")
    shapes = page.evaluate(
        """() => {
          const lines = (node) =>
            Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight));
          const badge = document.querySelector('#accounts .badge').getBoundingClientRect();
          const head = document.querySelector('#accounts .account-head').getBoundingClientRect();
          return {
            models: [...document.querySelectorAll('#accounts .model')].map(
              (m) => [m.textContent, lines(m), m.scrollWidth <= m.clientWidth]),
            badge: [badge.width, badge.height], head: head.height,
          };
        }"""
    )
    assert shapes["head"] > 30, shapes  # the header did wrap
    assert shapes["badge"][1] <= 20 and shapes["badge"][0] > shapes["badge"][1], shapes  # a pill, not a capsule
    names = {name: (lines, whole) for name, lines, whole in shapes["models"]}
    assert names[LONG_MODEL] == (1, True), shapes


def test_the_token_chart_has_scales_series_and_hover_values(
    browser: Any, proxy: ServeProcess, google: FakeGoogle
) -> None:
    add_account(proxy, google, "carol@example.com")
    usage = {"promptTokenCount": 1200, "candidatesTokenCount": 300, "thoughtsTokenCount": 150}
    google.reply([{"text": "counted"}], usage=usage, times=3)
    for _ in range(3):
        assert http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=AUTH, timeout=30).status == 200

    page = page_for(browser, proxy)
    page.wait_for_function("document.querySelectorAll('#chart .bar.thinking').length >= 1", timeout=15000)
    ticks = page.eval_on_selector_all("#chart .axis.y", "nodes => nodes.map(n => n.textContent)")
    assert ticks[0] == "0" and len(ticks) >= 3 and ticks[-1].endswith("k"), ticks  # a token scale up to 4.95k+
    hours = page.eval_on_selector_all("#chart .axis.x", "nodes => nodes.map(n => n.textContent)")
    assert hours and all(re.fullmatch(r"\d{2}:00", h) for h in hours), hours
    assert page.locator("#chart .hour").count() == 24
    for series in ("in", "out", "thinking"):
        assert page.locator(f"#chart .bar.{series}").count() == 1, series  # this hour only
    colours = {
        series: page.eval_on_selector(f"#chart .bar.{series}", "n => getComputedStyle(n).fill")
        for series in ("in", "out", "thinking")
    }
    assert len(set(colours.values())) == 3, colours
    heights = {
        series: page.eval_on_selector(f"#chart .bar.{series}", "n => n.getBBox().height")
        for series in ("in", "out", "thinking")
    }
    assert heights["in"] > heights["out"] > heights["thinking"] > 0, heights  # 3600 > 900 > 450, to scale

    page.hover("#chart .hour:last-of-type .hit")
    readout = page.text_content("#chart-total")
    assert re.fullmatch(r"\d{2}:00–\d{2}:00: 3,600 in · 900 out · 450 thinking · 3 requests", readout), readout
    shoot(page, "status-page-chart.png")
    page.mouse.move(0, 0)
    assert page.text_content("#chart-total").startswith("3 request(s) · 3,600 in · 900 out · 450 thinking")


def test_without_a_tray_the_page_does_not_send_you_to_one(browser: Any, proxy: ServeProcess) -> None:
    assert status(proxy)["tray"] is None  # `trayagent serve`: nothing supervises it from a tray
    page = page_for(browser, proxy)
    page.wait_for_function("!document.getElementById('supervisor-note').hidden", timeout=15000)
    text = page.text_content("body")
    assert "tray icon's menu" not in text
    assert "Running as trayagent serve, without a tray" in page.text_content("#supervisor-note")
    # No request yet: the chart says so instead of drawing a scale for nothing.
    page.wait_for_function("document.querySelectorAll('#chart .hour').length === 24")
    assert page.text_content("#chart .axis.empty") == "No tokens used in the last 24 hours"
    assert page.eval_on_selector_all("#chart .axis.y", "nodes => nodes.map(n => n.textContent)") == ["0"]
    shoot(page, "status-page-serve.png")


def test_the_sign_in_redirect_has_a_real_content_type(proxy: ServeProcess) -> None:
    ticket = json.loads(post(proxy, "/api/ui-session").body)["ticket"]
    reply = http(proxy.port, "GET", f"/ui/login?ticket={ticket}")
    assert reply.status == 303
    assert reply.headers["content-type"] == "text/plain; charset=utf-8", reply.headers


# -- signing in --------------------------------------------------------------------------------------------------


def test_signing_in_again_says_updated_like_the_api(browser: Any, proxy: ServeProcess, google: FakeGoogle) -> None:
    google.add_account("dave@example.com", project="p-dave")
    google.login_as = "dave@example.com"
    page = page_for(browser, proxy, "/ui/%23add")
    page.click("#google-login")
    page.wait_for_function("document.getElementById('login-state').textContent.startsWith('Added ')", timeout=30000)
    assert page.text_content("#login-state") == "Added dave@example.com."

    page.click("#google-login")
    page.wait_for_function("document.getElementById('login-state').textContent.startsWith('Updated ')", timeout=30000)
    assert page.text_content("#login-state") == "Updated dave@example.com."
    shoot(page, "status-page-sign-in-updated.png")


@pytest.fixture
def proxy_with_a_dying_browser(
    serve_factory: type[ServeProcess], home: Path, port: int, google: FakeGoogle, tmp_path: Path
) -> ServeProcess:
    dying = tmp_path / "chromium"
    dying.write_text(
        '#!/bin/sh\nsleep 0.5\necho "Running as root without --no-sandbox is not supported." >&2\nexit 1\n'
    )
    dying.chmod(0o755)
    server = serve_factory(home, strict_config(google, port))
    server.env["BROWSER"] = f"{dying} %s &"
    return server.start()


def test_a_browser_that_dies_at_once_is_said_and_the_link_shown(
    browser: Any, proxy_with_a_dying_browser: ServeProcess
) -> None:
    page = page_for(browser, proxy_with_a_dying_browser, "/ui/%23add")
    page.click("#google-login")
    page.wait_for_function(
        "document.getElementById('login-state').textContent.startsWith('The browser (chromium)')", timeout=20000
    )
    assert page.text_content("#login-state") == (
        "The browser (chromium) exited at once with status 1: Running as root without --no-sandbox is not supported. "
        "Open the link below in a browser on this computer."
    )
    assert page.get_attribute("#login-state", "class") == "problem"
    assert page.input_value("#login-url").startswith("http")
    tunnel = page.text_content("#login-tunnel")
    assert re.fullmatch(r"ssh -L (\d+):127\.0\.0\.1:\1 \S+", tunnel), tunnel
    assert page.locator("#login-elsewhere").is_visible()
    shoot(page, "status-page-browser-died.png")
    page.click("#cancel-login")
    page.wait_for_function("document.getElementById('login-state').textContent === 'Sign-in cancelled.'")
    assert not page.locator("#login-elsewhere").is_visible() and not page.locator("#login-url").is_visible()


def test_the_page_draws_under_its_own_content_security_policy(
    browser: Any, proxy: ServeProcess, google: FakeGoogle
) -> None:
    """The other tests bypass the CSP (Playwright's waits evaluate strings); here it is in force: the chart,
    the masked emails and the notes must not need inline styles or scripts."""
    add_account(proxy, google, "erin@example.com")
    assert http(proxy.port, "POST", GEMINI, body=ONE_TURN, headers=AUTH, timeout=30).status == 200
    context = browser.new_context(viewport={"width": 420, "height": 640})
    violations: list[str] = []
    page = context.new_page()
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    ticket = json.loads(post(proxy, "/api/ui-session").body)["ticket"]
    page.goto(f"{base(proxy)}/ui/login?ticket={ticket}&next=/ui/")
    page.locator("#chart .bar.in").first.wait_for(timeout=15000)
    page.locator("#accounts .email").first.wait_for()
    assert page.locator("#chart .hour").count() == 24
    assert page.text_content("#accounts .email") == "er***@ex***"
    assert violations == []
