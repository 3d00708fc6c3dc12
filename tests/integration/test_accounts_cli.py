"""`trayagent accounts …` as a user runs it, against the fake Google: sign-in, import/export, list, remove."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.google import FakeGoogle
from tests.serverproc import REPO, run_cli

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cli_env(home: Path, env: dict[str, str], google: FakeGoogle, tmp_path: Path) -> dict[str, str]:
    """An isolated home whose config points every Google URL at the fake, and a fake browser."""
    (home / "config.yaml").write_text(google.config_yaml())
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests/fakes/browser.py"}" "$@"\n')
    browser.chmod(0o755)
    return {
        **env,
        "BROWSER": str(browser),
        "FAKE_BROWSER_PAGE": str(tmp_path / "page.html"),
        "FAKE_BROWSER_LOG": str(tmp_path / "browser.log"),
    }


def accounts_file(home: Path) -> dict:
    return json.loads((home / "data" / "accounts.json").read_text())


def secrets_file(home: Path) -> dict[str, str]:
    return json.loads((home / "data" / "secrets.json").read_text())


def add(cli_env: dict[str, str], google: FakeGoogle, email: str, **kwargs: object) -> None:
    google.add_account(email, **kwargs)
    result = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token(email))
    assert result.returncode == 0, result.stderr


# -- sign-in -----------------------------------------------------------------------------------------


def test_login_in_the_browser_adds_the_account(cli_env: dict[str, str], google: FakeGoogle, home: Path, tmp_path: Path):
    google.add_account("alice@example.com", name="Alice", project="proj-alice", paid_tier="g1-pro-tier")

    result = run_cli(cli_env, "accounts", "login")

    assert result.returncode == 0, result.stderr
    assert "added alice@example.com: ok; tier pro; project proj-alice" in result.stdout
    # The link is always printed, for machines where no browser opens.
    url = next(line for line in result.stdout.splitlines() if line.startswith("http"))
    assert url == (tmp_path / "browser.log").read_text().strip()
    assert "code_challenge=" in url and "state=" in url
    # The browser tab ends on a friendly page naming the account.
    page = (tmp_path / "page.html").read_text()
    assert "You are signed in" in page and "alice@example.com is ready to use in trayagent" in page
    record = accounts_file(home)["accounts"][0]
    assert (record["email"], record["name"], record["project_id"], record["tier"]) == (
        "alice@example.com",
        "Alice",
        "proj-alice",
        "pro",
    )
    assert record["quota"]["gemini-2.5-flash"]["remaining"] == 1.0
    # Tokens live in the secret store (here the 0600 fallback file), never in accounts.json.
    assert "token" not in (home / "data" / "accounts.json").read_text().replace("refresh_token_name", "")
    names = secrets_file(home)
    assert names[f"account:{record['id']}:refresh_token"].startswith("1//fake-")
    assert google.calls_to("exchange")[0].body["code_verifier"]  # PKCE was used


def test_login_when_consent_is_declined(cli_env: dict[str, str], google: FakeGoogle, home: Path, tmp_path: Path):
    google.add_account("alice@example.com", project="p")
    google.deny_consent = True

    result = run_cli(cli_env, "accounts", "login")

    assert result.returncode == 1
    assert "you declined the consent screen, so no account was added" in result.stderr
    assert "Sign-in did not work" in (tmp_path / "page.html").read_text()
    assert not (home / "data" / "accounts.json").exists()


def test_login_with_a_forged_state_is_refused(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    google.add_account("alice@example.com", project="p")

    result = run_cli({**cli_env, "FAKE_BROWSER_MODE": "tamper-state"}, "accounts", "login")

    assert result.returncode == 1
    assert "did not match this login attempt (wrong state)" in result.stderr
    assert google.calls_to("exchange") == []  # the code was never used
    assert not (home / "data" / "accounts.json").exists()


def test_login_times_out_when_the_browser_never_comes_back(cli_env: dict[str, str], google: FakeGoogle):
    google.add_account("alice@example.com", project="p")

    result = run_cli({**cli_env, "FAKE_BROWSER_MODE": "ignore"}, "accounts", "login", "--timeout", "1.5")

    assert result.returncode == 1
    assert "no answer from the browser within 1.5 seconds" in result.stderr


def redirect_port(url: str) -> int:
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    port = urlsplit(redirect).port
    assert port is not None
    return port


def assert_says_what_works_elsewhere(stderr: str, url: str) -> None:
    """A browser elsewhere cannot reach this machine's localhost: the tunnel (with the real port) or tokens."""
    port = redirect_port(url)
    assert f"Google sends the browser back to http://localhost:{port} on this machine" in stderr
    assert f"first run: ssh -L {port}:127.0.0.1:{port} {socket.gethostname()}" in stderr
    assert "`trayagent accounts export` there" in stderr and "`trayagent accounts import FILE` here" in stderr
    assert "on any device" not in stderr


def test_login_with_a_browser_setting_that_cannot_run(cli_env: dict[str, str], google: FakeGoogle, tmp_path: Path):
    google.add_account("alice@example.com", project="p")
    env = {**cli_env, "BROWSER": str(tmp_path / "no-such-browser")}

    result = run_cli(env, "accounts", "login", "--timeout", "1")

    assert result.returncode == 1
    assert result.stdout.startswith(google.url + "/o/oauth2/v2/auth?")
    assert f"BROWSER is set to '{tmp_path / 'no-such-browser'}', which names no program that can run here" in (
        result.stderr
    )
    assert_says_what_works_elsewhere(result.stderr, result.stdout.strip())


def test_login_no_browser_prints_the_link_and_what_works_without_opening_one(
    cli_env: dict[str, str], google: FakeGoogle, tmp_path: Path
):
    google.add_account("alice@example.com", project="p")

    result = run_cli(cli_env, "accounts", "login", "--no-browser", "--timeout", "1")

    assert result.returncode == 1
    assert "opening in your browser" not in result.stderr
    assert "Open this link in a browser to sign in with Google:" in result.stderr
    assert_says_what_works_elsewhere(result.stderr, result.stdout.strip())
    assert not (tmp_path / "browser.log").exists()  # no browser was started


def test_login_on_a_machine_without_a_display(cli_env: dict[str, str], google: FakeGoogle, tmp_path: Path):
    google.add_account("alice@example.com", project="p")
    env = {k: v for k, v in cli_env.items() if k != "BROWSER"}  # no DISPLAY either (isolated_env)

    result = run_cli(env, "accounts", "login", "--timeout", "1")

    assert result.returncode == 1
    assert "Open this link in a browser to sign in with Google (no graphical display here):" in result.stderr
    assert_says_what_works_elsewhere(result.stderr, result.stdout.strip())


def test_login_says_so_when_the_browser_dies_at_once(cli_env: dict[str, str], google: FakeGoogle, tmp_path: Path):
    google.add_account("alice@example.com", project="p")
    dying = tmp_path / "dying-browser"
    dying.write_text(
        '#!/bin/sh\nsleep 0.5\necho "Running as root without --no-sandbox is not supported." >&2\nexit 1\n'
    )
    dying.chmod(0o755)

    result = run_cli({**cli_env, "BROWSER": f"{dying} %s &"}, "accounts", "login", "--timeout", "3")

    assert result.returncode == 1
    assert "if none opens, open this link" in result.stderr
    expected = "the browser (dying-browser) exited at once with status 1: Running as root without --no-sandbox"
    assert expected in result.stderr
    assert_says_what_works_elsewhere(result.stderr, result.stdout.strip())


# -- refresh tokens, import, export ------------------------------------------------------------------


def test_add_by_refresh_token_from_stdin_and_update(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    google.add_account("bob@example.com", project="proj-bob")
    token = google.issue_refresh_token("bob@example.com")

    first = run_cli(cli_env, "accounts", "add", "--refresh-token", "-", input=token + "\n")
    second = run_cli(cli_env, "accounts", "add", "--refresh-token", token)

    assert first.returncode == 0 and "added bob@example.com" in first.stdout
    assert second.returncode == 0 and "updated bob@example.com" in second.stdout
    assert len(accounts_file(home)["accounts"]) == 1  # upsert by email


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        ("1//not-a-real-token", 1, "this refresh token does not work: Google refused the refresh token (invalid_grant"),
        ("   ", 2, "no refresh token given"),
    ],
)
def test_add_with_a_bad_token_changes_nothing(cli_env: dict[str, str], home: Path, token: str, code: int, message: str):
    result = run_cli(cli_env, "accounts", "add", "--refresh-token", token)

    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "data" / "accounts.json").exists()


def test_export_then_import_into_another_home(
    cli_env: dict[str, str], google: FakeGoogle, home: Path, tmp_path: Path, env: dict[str, str]
):
    add(cli_env, google, "alice@example.com", project="pa")
    add(cli_env, google, "bob@example.com", project="pb")
    export = tmp_path / "accounts-export.json"

    result = run_cli(cli_env, "accounts", "export", str(export))

    assert result.returncode == 0
    assert "holds refresh tokens" in result.stderr and "Keep it private" in result.stderr
    assert stat.S_IMODE(os.stat(export).st_mode) == 0o600
    entries = json.loads(export.read_text())
    assert [e["email"] for e in entries] == ["alice@example.com", "bob@example.com"]
    assert all(e["refresh_token"].startswith("1//fake-") and set(e) == {"email", "refresh_token"} for e in entries)

    again = run_cli(cli_env, "accounts", "export", str(export))
    assert again.returncode == 1 and "exists; pass --force" in again.stderr

    other_home = tmp_path / "other"
    other_home.mkdir()
    (other_home / "config.yaml").write_text(google.config_yaml())
    other_env = {**cli_env, "TRAYAGENT_HOME": str(other_home)}
    imported = run_cli(other_env, "accounts", "import", str(export))

    assert imported.returncode == 0, imported.stderr
    assert "imported 2 of 2 account(s)" in imported.stdout
    assert [a["email"] for a in accounts_file(other_home)["accounts"]] == ["alice@example.com", "bob@example.com"]


def test_export_to_stdout(cli_env: dict[str, str], google: FakeGoogle):
    add(cli_env, google, "alice@example.com", project="pa")

    result = run_cli(cli_env, "accounts", "export")

    assert result.returncode == 0
    assert json.loads(result.stdout)[0]["email"] == "alice@example.com"
    assert "holds refresh tokens" in result.stderr


def test_import_reports_each_failure_and_keeps_the_rest(
    cli_env: dict[str, str], google: FakeGoogle, home: Path, tmp_path: Path
):
    google.add_account("alice@example.com", project="pa")
    good = google.issue_refresh_token("alice@example.com")
    source = tmp_path / "import.json"
    source.write_text(
        json.dumps(
            [{"email": "ghost@example.com", "refresh_token": "1//revoked"}, {"email": "x@y.z", "refresh_token": good}]
        )
    )

    result = run_cli(cli_env, "accounts", "import", str(source))

    assert result.returncode == 1
    assert "ghost@example.com: not imported: this refresh token does not work" in result.stderr
    assert "the file says x@y.z, but this token belongs to alice@example.com" in result.stderr
    assert "imported 1 of 2 account(s)" in result.stdout
    assert [a["email"] for a in accounts_file(home)["accounts"]] == ["alice@example.com"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not an export file"),
        ('{"email": "a@b.c"}', "expected a JSON list"),
        ('[{"email": "a@b.c"}]', "entry 1 has no refresh_token"),
    ],
)
def test_import_of_a_bad_file_is_a_usage_error(cli_env: dict[str, str], tmp_path: Path, content: str, message: str):
    source = tmp_path / "bad.json"
    source.write_text(content)

    result = run_cli(cli_env, "accounts", "import", str(source))

    assert result.returncode == 2
    assert message in result.stderr


def test_import_of_a_missing_file(cli_env: dict[str, str], tmp_path: Path):
    result = run_cli(cli_env, "accounts", "import", str(tmp_path / "nope.json"))
    assert result.returncode == 1 and "cannot read" in result.stderr


def test_remove_deletes_the_record_and_its_tokens(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    add(cli_env, google, "alice@example.com", project="pa")
    add(cli_env, google, "bob@example.com", project="pb")
    alice_id = accounts_file(home)["accounts"][0]["id"]

    result = run_cli(cli_env, "accounts", "remove", "ALICE@example.com")

    assert result.returncode == 0 and "removed alice@example.com and its tokens" in result.stdout
    assert [a["email"] for a in accounts_file(home)["accounts"]] == ["bob@example.com"]
    assert not [name for name in secrets_file(home) if alice_id in name]
    missing = run_cli(cli_env, "accounts", "remove", "alice@example.com")
    assert missing.returncode == 1 and "no account alice@example.com" in missing.stderr


# -- project, tier, quota, status ----------------------------------------------------------------------


def test_an_account_without_project_is_onboarded(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    fake = google.add_account("new@example.com", project=None, onboard_polls=2)

    result = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token("new@example.com"))

    assert result.returncode == 0, result.stderr
    assert fake.project is not None and fake.project.startswith("onboarded-")
    assert len(google.calls_to("onboardUser")) == 3  # done:false twice, then done:true
    assert google.calls_to("onboardUser")[0].body["tierId"] == "free-tier"  # the default allowed tier
    record = accounts_file(home)["accounts"][0]
    assert (record["project_id"], record["tier"]) == (fake.project, "free")


def test_list_shows_tier_project_status_and_quota(cli_env: dict[str, str], google: FakeGoogle):
    add(cli_env, google, "alice@example.com", project="proj-alice", paid_tier="g1-ultra-tier")

    masked = run_cli(cli_env, "accounts", "list")
    full = run_cli(cli_env, "accounts", "list", "--full")

    assert masked.returncode == 0
    assert "al***@ex***" in masked.stdout and "alice@example.com" not in masked.stdout
    header, row, quota = full.stdout.splitlines()[:3]
    assert header.split() == ["EMAIL", "TIER", "PROJECT", "STATUS"]
    assert row.split()[:2] == ["alice@example.com", "ultra"] and "proj-alice" in row and row.endswith("ok")
    assert "Claude 25% (resets" in quota and "Gemini Pro 60%" in quota and "Gemini Flash 100%" in quota
    data = json.loads(run_cli(cli_env, "accounts", "list", "--json").stdout)
    assert data[0]["email"] == "al***@ex***" and data[0]["status"] == "ok"


def test_list_refresh_reads_new_quota(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    add(cli_env, google, "alice@example.com", project="pa")
    google.accounts["alice@example.com"].models["gemini-2.5-flash"]["remainingFraction"] = 0.1

    result = run_cli(cli_env, "accounts", "list", "--refresh")

    assert result.returncode == 0
    assert "Gemini Flash 10%" in result.stdout
    assert accounts_file(home)["accounts"][0]["quota"]["gemini-2.5-flash"]["remaining"] == 0.1


def test_revoked_token_disables_the_account_and_says_why(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    add(cli_env, google, "alice@example.com", project="pa")
    google.revoke("alice@example.com")

    first = run_cli(cli_env, "accounts", "list", "--refresh", "--full")
    refreshes = len(google.calls_to("refresh", "alice@example.com"))
    second = run_cli(cli_env, "accounts", "list", "--refresh", "--full")

    assert first.returncode == 0
    assert "disabled: Google refused the refresh token (invalid_grant: Token has been expired or revoked.)" in (
        first.stdout
    )
    assert "sign in again with `trayagent accounts login`" in first.stdout
    record = accounts_file(home)["accounts"][0]
    assert record["enabled"] is False and "invalid_grant" in record["disabled_reason"]
    # A dead token is not tried again by itself: no new refresh call the second time.
    assert len(google.calls_to("refresh", "alice@example.com")) == refreshes
    assert "disabled:" in second.stdout
    # Adding it again (a new sign-in) brings it back.
    again = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token("alice@example.com"))
    assert again.returncode == 0 and "updated alice@example.com: ok" in again.stdout


def test_validation_required_shows_the_link_and_clears_once_verified(
    cli_env: dict[str, str], google: FakeGoogle, home: Path
):
    add(cli_env, google, "alice@example.com", project="pa")
    fake = google.accounts["alice@example.com"]
    fake.validation_url = "https://accounts.google.com/signin/continue?verify=abc"

    flagged = run_cli(cli_env, "accounts", "list", "--refresh", "--full")
    fake.validation_url = None
    cleared = run_cli(cli_env, "accounts", "list", "--refresh", "--full")

    assert "needs verification: https://accounts.google.com/signin/continue?verify=abc" in flagged.stdout
    assert "Google asks you to verify this account" in flagged.stderr
    assert cleared.stdout.splitlines()[1].endswith("ok")
    assert accounts_file(home)["accounts"][0]["validation_url"] is None


def test_google_trouble_after_sign_in_keeps_the_account(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    google.add_account("alice@example.com", project="pa")
    for base in ("sandbox", "daily", "prod"):
        google.fail("loadCodeAssist", 503, base=base, message="backend unavailable")

    result = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token("alice@example.com"))

    assert result.returncode == 0
    assert "warning: loadCodeAssist on 127.0.0.1" in result.stderr and "(HTTP 503)" in result.stderr
    assert "accounts list --refresh` checks it again" in result.stderr
    listing = run_cli(cli_env, "accounts", "list")
    assert "quota unknown (loadCodeAssist" in listing.stdout
    assert len(google.calls_to("loadCodeAssist")) == 3  # each base tried once, in order
    assert [c.base for c in google.calls_to("loadCodeAssist")] == ["sandbox", "daily", "prod"]


def test_token_endpoint_down_is_a_clear_failure(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    google.add_account("alice@example.com", project="pa")
    token = google.issue_refresh_token("alice@example.com")
    google.fail("refresh", 500, message="Internal error")

    result = run_cli(cli_env, "accounts", "add", "--refresh-token", token)

    assert result.returncode == 1
    assert "refreshing a token failed" in result.stderr and "(HTTP 500)" in result.stderr
    assert not (home / "data" / "accounts.json").exists()


def test_a_slow_base_times_out_and_the_next_one_answers(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    (home / "config.yaml").write_text(
        google.config_yaml(extra="").replace("upstream:\n", "upstream:\n  read_timeout: 1\n")
    )
    google.add_account("alice@example.com", project="pa")
    google.fail("fetchAvailableModels", 200, base="sandbox", delay=3)

    result = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token("alice@example.com"))

    assert result.returncode == 0, result.stderr
    assert [c.base for c in google.calls_to("fetchAvailableModels")] == ["sandbox", "daily"]
    assert accounts_file(home)["accounts"][0]["quota"]


def test_a_damaged_accounts_file_is_kept_and_reported(cli_env: dict[str, str], google: FakeGoogle, home: Path):
    add(cli_env, google, "alice@example.com", project="pa")
    path = home / "data" / "accounts.json"
    damaged = path.read_text()[:-40]
    path.write_text(damaged)

    listing = run_cli(cli_env, "accounts", "list")
    adding = run_cli(cli_env, "accounts", "add", "--refresh-token", google.issue_refresh_token("alice@example.com"))

    for result in (listing, adding):
        assert result.returncode == 1
        assert "accounts.json is damaged (not valid JSON" in result.stderr
        assert "a copy is kept at" in result.stderr
    assert path.read_text() == damaged  # never replaced
    backups = list(path.parent.glob("accounts.json.damaged-*"))
    assert len(backups) == 1 and backups[0].read_text() == damaged


def test_a_newer_schema_is_not_overwritten(cli_env: dict[str, str], home: Path):
    path = home / "data" / "accounts.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 7, "accounts": []}')

    result = run_cli(cli_env, "accounts", "list")

    assert result.returncode == 1
    assert "written by a newer trayagent (schema 7" in result.stderr
