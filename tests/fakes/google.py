"""A fake Google for tests: OAuth (authorize page, token endpoint, userinfo) and Cloud Code `v1internal`.

It speaks the wire format of shared/spec/upstream.md, not whatever trayagent happens to send: requests are
checked as Google would (PKCE, redirect_uri, client credentials, bearer tokens) and errors come back in
Google's shapes. It runs an aiohttp server on a free loopback port in a background thread; tests script it
through methods (`add_account`, `fail`, `revoke`, …) and read what it saw in `calls`.

`FakeGoogle(strict_signatures=True)` also judges thought signatures in histories as Google does (fakes/thoughts.py).
Cloud Code bases are `{url}/{name}/v1internal` for any name, so endpoint fallback can be scripted per base.
Run it alone with `python -m tests.fakes.google [--port N]` (prints its config, for manual runs and the bench).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.generation import (
    GenerationScript,
    ScriptedReply,
    aggregate,
    check_envelope,
    chunk_payloads,
    count_tokens,
    stream,
)
from tests.fakes.protoshape import proto_problem
from tests.fakes.requestshape import Predicate
from tests.fakes.thoughts import SignatureLedger

CLIENT_ID = "fake-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-secret"
REQUIRED_SCOPES = {
    "openid",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
}
DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "gemini-2.5-flash": {"displayName": "Gemini 2.5 Flash", "remainingFraction": 1.0},
    "gemini-3-pro-high": {"displayName": "Gemini 3 Pro (High)", "remainingFraction": 0.6},
    "claude-sonnet-4-6": {"displayName": "Claude Sonnet 4.6", "remainingFraction": 0.25},
    "chat_20706": {"displayName": "internal", "remainingFraction": 1.0},
}
TIERS = {
    "free-tier": "Antigravity Free",
    "g1-pro-tier": "Google AI Pro",
    "g1-ultra-tier": "Google AI Ultra",
    "standard-tier": "Gemini Code Assist Standard",
}


@dataclass
class FakeAccount:
    email: str
    name: str = "Test User"
    current_tier: str | None = "free-tier"
    paid_tier: str | None = None
    project: str | None = None  # None: loadCodeAssist has no project and onboardUser must run
    onboard_polls: int = 1  # onboardUser answers done:false this many times first
    models: dict[str, dict[str, Any]] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_MODELS)))
    validation_url: str | None = None  # set: every v1internal call gets 403 VALIDATION_REQUIRED
    refresh_tokens: set[str] = field(default_factory=set)
    onboard_calls: int = 0


@dataclass
class Failure:
    """One scripted misbehaviour: an HTTP error, a delay (a delay longer than the client waits is a timeout)."""

    method: str
    status: int | None = 500
    email: str | None = None
    base: str | None = None
    times: int = 1
    delay: float = 0.0
    reason: str | None = None
    message: str | None = None
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] | None = None
    body: Any = None
    metadata: dict[str, str] | None = None  # ErrorInfo metadata, e.g. {"quotaResetDelay": "1h16m0.667s"}
    retry_delay: str | None = None  # adds a RetryInfo detail, e.g. "1.203s"
    cut_after: int | None = None  # streams: drop the connection after this many chunks (status 200)
    empty: bool = False  # streams: answer 200 with no data at all
    # streams: every chunk goes out and the stream ends cleanly, but without the last chunk's finishReason and
    # usage (a reply Google cut short without saying so)
    unfinished: bool = False
    when: Predicate | None = None  # generation calls: only for requests this is true of (given the inner request)

    @property
    def misbehaves_in_stream(self) -> bool:
        return self.status == 200 and (self.cut_after is not None or self.empty or self.unfinished)


@dataclass
class Call:
    method: str
    email: str | None
    base: str | None
    body: Any
    headers: dict[str, str]
    at: float


class FakeGoogle:
    def __init__(self, *, strict_signatures: bool = False) -> None:
        # On: histories' thought signatures are judged as Google judges them (tests/fakes/thoughts.py).
        self.strict_signatures = strict_signatures
        self.signatures = SignatureLedger()
        self.accounts: dict[str, FakeAccount] = {}
        self.calls: list[Call] = []
        self.rotate_refresh_tokens = False
        self.access_token_ttl = 3600
        self.token_delay = 0.0  # every token endpoint call waits this long (single-flight tests)
        self.login_as: str | None = None  # the account the authorize page "signs in"
        self.deny_consent = False
        self._failures: list[Failure] = []
        self.generation = GenerationScript()
        self._codes: dict[str, dict[str, str]] = {}
        self._access: dict[str, tuple[str, float]] = {}  # access token -> (email, expiry)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- scripting ---------------------------------------------------------------------------------

    def add_account(self, email: str, **kwargs: Any) -> FakeAccount:
        with self._lock:
            account = FakeAccount(email=email, **kwargs)
            self.accounts[email] = account
            return account

    def issue_refresh_token(self, email: str) -> str:
        with self._lock:
            return self._new_refresh_token(self.accounts[email])

    def revoke(self, email: str) -> None:
        """Every refresh and access token of the account stops working (invalid_grant / 401)."""
        with self._lock:
            self.accounts[email].refresh_tokens.clear()
            self._access = {t: v for t, v in self._access.items() if v[0] != email}

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def fail(self, method: str, status: int | None = 500, **kwargs: Any) -> Failure:
        failure = Failure(method=method, status=status, **kwargs)
        with self._lock:
            self._failures.append(failure)
        return failure

    def reply(self, *chunks: list[dict[str, Any]], **kwargs: Any) -> ScriptedReply:
        """Script the next generation reply (for `email=` only, `times=` times, requests `when=` matches);
        see tests.fakes.generation."""
        scripted = ScriptedReply(chunks=list(chunks), **kwargs)
        with self._lock:
            self.generation.replies.append(scripted)
        return scripted

    def clear_scripts(self) -> None:
        """Forget scripted replies and failures not used yet (a fake shared by several tests)."""
        with self._lock:
            self.generation.replies.clear()
            self._failures.clear()

    def forget_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def calls_to(self, method: str, email: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (email is None or c.email == email)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self, *names: str) -> list[str]:
        return [f"{self.url}/{name}/v1internal" for name in (names or ("sandbox", "daily", "prod"))]

    def config_yaml(self, port: int | None = None, extra: str = "", endpoints: list[str] | None = None) -> str:
        """A config.yaml pointing every Google URL at this fake."""
        lines = []
        if port is not None:
            lines += ["proxy:", f"  port: {port}"]
        lines += [
            "oauth:",
            f"  client_id: {CLIENT_ID}",
            f"  client_secret: {CLIENT_SECRET}",
            f"  auth_url: {self.url}/o/oauth2/v2/auth",
            f"  token_url: {self.url}/token",
            f"  userinfo_url: {self.url}/oauth2/v2/userinfo",
            "upstream:",
            "  endpoints:",
            *[f"    - {e}" for e in (endpoints or self.endpoints())],
        ]
        return "\n".join(lines) + "\n" + extra

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeGoogle:
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_server(port))
            except BaseException as exc:  # report to the starting thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_server())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-google", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _start_server(self, port: int) -> None:
        app = web.Application()
        app.router.add_get("/o/oauth2/v2/auth", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/oauth2/v2/userinfo", self._userinfo)
        app.router.add_post(r"/{base}/{tail:v1internal:[A-Za-z]+}", self._v1internal)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _stop_server(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- failures ----------------------------------------------------------------------------------

    def _take_failure(self, method: str, email: str | None, base: str | None, body: Any = None) -> Failure | None:
        inner = body.get("request") if isinstance(body, dict) else None
        with self._lock:
            for failure in self._failures:
                if failure.method != method or failure.times <= 0:
                    continue
                if failure.when is not None and not (isinstance(inner, dict) and failure.when(inner)):
                    continue
                if failure.email is not None and failure.email != email:
                    continue
                if failure.base is not None and failure.base != base:
                    continue
                failure.times -= 1
                return failure
        return None

    async def _scripted(self, failure: Failure | None, google_api: bool) -> web.Response | None:
        if failure is None:
            return None
        if failure.delay:
            await asyncio.sleep(failure.delay)
        if failure.status is None or failure.status == 200:
            return None  # only slow
        if failure.body is not None:
            text = failure.body if isinstance(failure.body, str) else json.dumps(failure.body)
            return web.Response(status=failure.status, text=text, headers=failure.headers)
        if google_api:
            details = list(failure.details or [])
            if failure.retry_delay:
                details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": failure.retry_delay})
            return api_error(
                failure.status, failure.message, failure.reason, details, failure.headers, metadata=failure.metadata
            )
        return web.json_response(
            {"error": failure.reason or "server_error", "error_description": failure.message or "scripted"},
            status=failure.status,
            headers=failure.headers,
        )

    def _record(self, method: str, email: str | None, base: str | None, body: Any, request: web.Request) -> None:
        with self._lock:
            self.calls.append(Call(method, email, base, body, dict(request.headers), time.time()))

    # -- OAuth -------------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        self._record("authorize", self.login_as, None, dict(q), request)
        scripted = await self._scripted(self._take_failure("authorize", self.login_as, None), google_api=False)
        if scripted is not None:
            return scripted
        problems = []
        if q.get("client_id") != CLIENT_ID:
            problems.append("invalid client_id")
        if q.get("response_type") != "code":
            problems.append("response_type must be code")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problems.append("PKCE S256 challenge required")
        if not REQUIRED_SCOPES <= set(q.get("scope", "").split()):
            problems.append("missing scopes")
        if q.get("access_type") != "offline" or q.get("prompt") != "consent":
            problems.append("offline access with consent required")
        redirect = q.get("redirect_uri", "")
        if not redirect.startswith(("http://localhost:", "http://127.0.0.1:", "http://[::1]:")):
            problems.append("redirect_uri must be a loopback address")
        if problems:
            return web.Response(status=400, text="Error 400: invalid_request — " + "; ".join(problems))
        state = q.get("state", "")
        if self.deny_consent:
            return _redirect(redirect, {"error": "access_denied", "state": state})
        with self._lock:
            email = self.login_as or next(iter(self.accounts), None)
            if email is None:
                return web.Response(status=500, text="fake: no account to sign in")
            code = "4/fake-" + secrets.token_urlsafe(12)
            self._codes[code] = {"email": email, "challenge": q["code_challenge"], "redirect_uri": redirect}
        return _redirect(redirect, {"code": code, "state": state, "scope": q.get("scope", "")})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        grant = str(form.get("grant_type", ""))
        method = {"authorization_code": "exchange", "refresh_token": "refresh"}.get(grant, "token")
        email = self._email_for_grant(form)
        self._record(method, email, None, {k: str(v) for k, v in form.items()}, request)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        scripted = await self._scripted(self._take_failure(method, email, None), google_api=False)
        if scripted is not None:
            return scripted
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        with self._lock:
            if grant == "authorization_code":
                return self._exchange(form)
            if grant == "refresh_token":
                return self._refresh(form)
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _email_for_grant(self, form: dict[str, Any]) -> str | None:
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                return self._codes.get(str(form.get("code")), {}).get("email")
            token = str(form.get("refresh_token", ""))
            return next((a.email for a in self.accounts.values() if token in a.refresh_tokens), None)

    def _exchange(self, form: dict[str, Any]) -> web.Response:
        entry = self._codes.pop(str(form.get("code", "")), None)
        if entry is None:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if form.get("redirect_uri") != entry["redirect_uri"]:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != entry["challenge"]:
            return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        account = self.accounts[entry["email"]]
        return web.json_response(
            {
                "access_token": self._new_access_token(account),
                "expires_in": self.access_token_ttl,
                "refresh_token": self._new_refresh_token(account),
                "scope": " ".join(sorted(REQUIRED_SCOPES)),
                "token_type": "Bearer",
                "id_token": "eyJfake.eyJfake.sig",
            }
        )

    def _refresh(self, form: dict[str, Any]) -> web.Response:
        token = str(form.get("refresh_token", ""))
        account = next((a for a in self.accounts.values() if token in a.refresh_tokens), None)
        if account is None:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        reply: dict[str, Any] = {
            "access_token": self._new_access_token(account),
            "expires_in": self.access_token_ttl,
            "scope": " ".join(sorted(REQUIRED_SCOPES)),
            "token_type": "Bearer",
        }
        if self.rotate_refresh_tokens:
            account.refresh_tokens.discard(token)
            reply["refresh_token"] = self._new_refresh_token(account)
        return web.json_response(reply)

    def _new_refresh_token(self, account: FakeAccount) -> str:
        token = "1//fake-" + secrets.token_urlsafe(24)
        account.refresh_tokens.add(token)
        return token

    def _new_access_token(self, account: FakeAccount) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self._access[token] = (account.email, time.time() + self.access_token_ttl)
        return token

    def _bearer_email(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        with self._lock:
            entry = self._access.get(header[7:])
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    async def _userinfo(self, request: web.Request) -> web.Response:
        email = self._bearer_email(request)
        self._record("userinfo", email, None, None, request)
        scripted = await self._scripted(self._take_failure("userinfo", email, None), google_api=True)
        if scripted is not None:
            return scripted
        if email is None:
            return api_error(401, "Request had invalid authentication credentials.", status_text="UNAUTHENTICATED")
        account = self.accounts[email]
        return web.json_response(
            {"id": "1234567890", "email": email, "verified_email": True, "name": account.name, "picture": ""}
        )

    # -- Cloud Code v1internal ---------------------------------------------------------------------

    async def _v1internal(self, request: web.Request) -> web.StreamResponse:
        base = request.match_info["base"]
        method = request.match_info["tail"].split(":", 1)[1]
        email = self._bearer_email(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        self._record(method, email, base, body, request)
        failure = self._take_failure(method, email, base, body)
        stream_failure = failure if failure is not None and failure.misbehaves_in_stream else None
        scripted = await self._scripted(failure if stream_failure is None else None, google_api=True)
        if scripted is not None:
            return scripted
        if email is None:
            return api_error(401, "Request had invalid authentication credentials.", status_text="UNAUTHENTICATED")
        if not request.headers.get("User-Agent"):
            return api_error(400, "missing User-Agent")
        handler = self._methods().get(method)
        if handler is None and method not in _GENERATION:
            return api_error(404, f"Method not found: {method}", status_text="NOT_FOUND")
        account = self.accounts[email]
        if account.validation_url:
            return api_error(
                403,
                "Verify your account to continue.",
                reason="VALIDATION_REQUIRED",
                status_text="PERMISSION_DENIED",
                metadata={"validation_url": account.validation_url},
            )
        if not isinstance(body, dict):
            return api_error(400, "Invalid JSON payload received.")
        if handler is None:
            return await self._generate(request, method, account, body, stream_failure)
        with self._lock:
            return handler(account, body)

    def _methods(self) -> dict[str, Callable[[FakeAccount, dict[str, Any]], web.Response]]:
        return {
            "loadCodeAssist": self._load_code_assist,
            "onboardUser": self._onboard_user,
            "fetchAvailableModels": self._fetch_available_models,
        }

    async def _generate(
        self, request: web.Request, method: str, account: FakeAccount, body: dict[str, Any], failure: Failure | None
    ) -> web.StreamResponse:
        malformed = proto_problem(body.get("request"))
        if malformed is not None:  # Google's JSON-to-proto parser refuses it before anything else
            return api_error(400, f"Invalid JSON payload received. {malformed}")
        if method == "countTokens":
            if set(body) != {"request"}:  # the real backend refuses project/model here
                return api_error(400, f"Invalid JSON payload received. Unknown name: {sorted(set(body) - {'request'})}")
            return web.json_response({"totalTokens": count_tokens(body["request"])})
        refused = check_envelope(account, body)
        if refused is not None:
            return refused
        if self.strict_signatures:
            bad_signature = self.signatures.check(account.email, body["model"], body["request"])
            if bad_signature is not None:
                return api_error(400, bad_signature)
        with self._lock:
            scripted = self.generation.take(account.email, body["model"], body["request"])
        payloads = chunk_payloads(scripted, body["model"], body["request"])
        self.signatures.issue(body["model"], payloads)
        if method == "generateContent":
            return web.json_response(aggregate(payloads))
        if request.query.get("alt") != "sse":
            return api_error(400, "streamGenerateContent needs alt=sse here")
        return await stream(request, payloads, failure, scripted.chunk_delay, scripted.raw_before)

    def _load_code_assist(self, account: FakeAccount, body: dict[str, Any]) -> web.Response:
        metadata = body.get("metadata")
        if not isinstance(metadata, dict) or not metadata.get("ideType"):
            return api_error(400, "metadata.ideType is required")
        reply: dict[str, Any] = {
            "allowedTiers": [
                {"id": "free-tier", "name": TIERS["free-tier"], "isDefault": True},
                {"id": "standard-tier", "name": TIERS["standard-tier"]},
            ],
        }
        if account.project is not None:
            reply["cloudaicompanionProject"] = account.project
            if account.current_tier:
                reply["currentTier"] = {"id": account.current_tier, "name": TIERS.get(account.current_tier, "?")}
        if account.paid_tier:
            reply["paidTier"] = {"id": account.paid_tier, "name": TIERS.get(account.paid_tier, "?")}
        return web.json_response(reply)

    def _onboard_user(self, account: FakeAccount, body: dict[str, Any]) -> web.Response:
        if not isinstance(body.get("tierId"), str):
            return api_error(400, "tierId is required")
        account.onboard_calls += 1
        if account.onboard_calls <= account.onboard_polls:
            return web.json_response({"name": "operations/onboard-" + account.email.split("@")[0], "done": False})
        if account.project is None:
            account.project = "onboarded-" + secrets.token_hex(3)
            account.current_tier = body["tierId"]
        return web.json_response(
            {
                "name": "operations/onboard",
                "done": True,
                "response": {"cloudaicompanionProject": {"id": account.project, "name": account.project}},
            }
        )

    def _fetch_available_models(self, account: FakeAccount, body: dict[str, Any]) -> web.Response:
        if account.project is None or body.get("project") != account.project:
            return api_error(404, f"Project '{body.get('project')}' could not be found.", status_text="NOT_FOUND")
        models: dict[str, Any] = {}
        for name, spec in account.models.items():
            info: dict[str, Any] = {"displayName": spec.get("displayName", name), "supportsThinking": True}
            quota: dict[str, Any] = {}
            if spec.get("remainingFraction") is not None:
                quota["remainingFraction"] = spec["remainingFraction"]
            reset = spec.get("resetTime", _rfc3339(time.time() + 5 * 3600))
            if reset:
                quota["resetTime"] = reset
            info["quotaInfo"] = quota
            models[name] = info
        deprecated = {"gemini-3-pro": {"newModelId": "gemini-3-pro-high"}}
        return web.json_response({"models": models, "deprecatedModelIds": deprecated})


_GENERATION = ("streamGenerateContent", "generateContent", "countTokens")


def api_error(
    code: int,
    message: str | None = None,
    reason: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    *,
    status_text: str | None = None,
    metadata: dict[str, str] | None = None,
) -> web.Response:
    """A Google API error body: {"error": {"code", "message", "status", "details"}}."""
    statuses = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }
    all_details = list(details or [])
    if reason:
        all_details.insert(
            0,
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": metadata or {},
            },
        )
    error: dict[str, Any] = {
        "code": code,
        "message": message or f"scripted {code}",
        "status": status_text or statuses.get(code, "UNKNOWN"),
    }
    if all_details:
        error["details"] = all_details
    return web.json_response({"error": error}, status=code, headers=headers)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _redirect(uri: str, params: dict[str, str]) -> web.Response:
    return web.Response(status=302, headers={"Location": f"{uri}?{urllib.parse.urlencode(params)}"})


def _rfc3339(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="run the fake Google alone")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account", action="append", default=[], help="an email to create (repeatable)")
    args = parser.parse_args()
    fake = FakeGoogle()
    for email in args.account or ["someone@example.com"]:
        fake.add_account(email, project="proj-" + email.split("@")[0])
        print(f"{email} refresh token: {fake.issue_refresh_token(email)}")
    fake.start(args.port)
    print(fake.config_yaml(), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
