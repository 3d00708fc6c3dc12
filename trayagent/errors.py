"""The one error tree of trayagent.

    TrayAgentError
     ├── ConfigError              config.yaml is unreadable or invalid (CLI exit 2)
     ├── SecretError              neither the OS keyring nor the fallback file could keep a secret
     ├── ServeError               the proxy could not start (CLI exit 1)
     │    └── PortInUse
     ├── AccountError             an account could not be added, used or saved (CLI exit 1)
     │    ├── AccountsFileError   data/accounts.json is unreadable (a copy is kept) or unwritable
     │    ├── LoginFailed         Google sign-in denied, tampered with, timed out or cancelled
     │    ├── TokenRevoked        Google refused the refresh token (invalid_grant): the account is disabled
     │    └── GoogleError         Google answered with an error, or did not answer in time: OAuth, and every
     │                            Cloud Code call (control and generation), with status, body and headers
     └── ProxyError               a failure a client sees: an HTTP status + a neutral `kind`
          ├── BadRequest          400  invalid_request
          ├── AuthError           401  authentication
          ├── Forbidden           403  permission
          ├── RouteNotFound       404  not_found
          ├── MethodNotAllowed    405  not_found
          ├── UnsupportedMediaType 415 invalid_request  a status API change sent without a JSON content type
          ├── PayloadTooLarge     413  request_too_large
          ├── HeadersTooLarge     431  request_too_large  the request line and headers, refused by the HTTP layer
          ├── RateLimited         429  rate_limit   every usable account is cooling down or out of quota
          ├── UpstreamRejected    4xx  invalid_request  Google refused the request itself (client's to fix)
          ├── StreamBroken        502  api_error    the upstream failed after the reply had started
          ├── UpstreamFailed      502  api_error    Google failed this request the same way on two accounts:
          │                                       it follows the request, so it is not rotated further
          ├── NoAccountAvailable  503  unavailable  (also: every account tried failed transiently)
          │    └── NeedsUser      424  needs_user   only the user can fix it (no account, all disabled,
          │                                       a route not served): a 4xx no client retries, and
          │                                       `x-should-retry: false`
          └── InternalError       500  api_error

`kind` is protocol-neutral; `trayagent.translate.error_shapes` turns a ProxyError into the
OpenAI, Anthropic or Gemini error body, so every route renders errors the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class TrayAgentError(Exception):
    """Base of every error trayagent raises on purpose."""


class ConfigError(TrayAgentError):
    """One or more problems in a config file, each naming the key path and the YAML line."""

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{where}{self.problems[0]}"
        else:
            message = f"{where}{len(self.problems)} problems\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class SecretError(TrayAgentError):
    """A secret could be stored neither in the OS keyring nor in the fallback file."""


class ServeError(TrayAgentError):
    """The proxy could not be started."""


class PortInUse(ServeError):
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        super().__init__(f"port {port} is already in use on {host}")


class AccountError(TrayAgentError):
    """An account could not be added, used or saved; the message is for the user."""


class AccountsFileError(AccountError):
    """data/accounts.json cannot be read (it is copied aside, never replaced) or written."""


class LoginFailed(AccountError):
    """Google sign-in did not complete: consent denied, wrong state, timeout or cancel."""


class TokenRevoked(AccountError):
    """The refresh token is dead (`invalid_grant`); the account is disabled until signed in again."""


class GoogleError(AccountError):
    """A call to Google failed. `status` is None when nothing came back (network error, timeout, a stream cut).
    `body` and `headers` are what came back, for the failure classifier."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        validation_url: str | None = None,
        body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.validation_url = validation_url
        self.body = body
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    @property
    def transient(self) -> bool:
        """Worth another try later: no answer, a timeout, 408, 429 or a 5xx."""
        return self.status is None or self.status in (408, 429) or self.status >= 500


class ProxyError(TrayAgentError):
    """An error answered to an HTTP client, rendered in that client's protocol shape."""

    status_code = 500
    kind = "api_error"

    def __init__(
        self, message: str, *, retry_after: float | None = None, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.param = param  # the request field at fault, where a protocol's error shape names it (OpenAI's)
        self.code = code  # a machine-readable code that overrides the kind's own, where the protocol has one
        self.extra_headers: dict[str, str] = {}  # e.g. X-Account / X-Mapped-Model of a proxied request

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return self.extra_headers
        return {**self.extra_headers, "Retry-After": str(max(1, round(self.retry_after)))}


class BadRequest(ProxyError):
    status_code = 400
    kind = "invalid_request"


class AuthError(ProxyError):
    status_code = 401
    kind = "authentication"


class Forbidden(ProxyError):
    status_code = 403
    kind = "permission"


class RouteNotFound(ProxyError):
    status_code = 404
    kind = "not_found"


class MethodNotAllowed(ProxyError):
    status_code = 405
    kind = "not_found"


class UnsupportedMediaType(BadRequest):
    """A change to the status API whose body is not declared `application/json` (what a web form sends)."""

    status_code = 415


class PayloadTooLarge(ProxyError):
    status_code = 413
    kind = "request_too_large"


class HeadersTooLarge(ProxyError):
    status_code = 431
    kind = "request_too_large"


class RateLimited(ProxyError):
    status_code = 429
    kind = "rate_limit"


class UpstreamRejected(ProxyError):
    """Google refused the request as such (400 INVALID_ARGUMENT, 413…): retrying elsewhere cannot help."""

    kind = "invalid_request"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status_code = status if 400 <= status < 500 and status not in (401, 403, 429) else 400
        if self.status_code == 413:
            self.kind = "request_too_large"
        elif self.status_code == 404:
            self.kind = "not_found"


class StreamBroken(ProxyError):
    status_code = 502
    kind = "api_error"


class UpstreamFailed(ProxyError):
    """A transient upstream failure (5xx, timeout) that repeated on a second account: the request causes it,
    so it is answered instead of tried on every account (and cooling each one for everybody)."""

    status_code = 502
    kind = "api_error"


class NoAccountAvailable(ProxyError):
    status_code = 503
    kind = "unavailable"


class NeedsUser(NoAccountAvailable):
    """Nothing a retry can fix. Every client retries a 503 (Claude Code and Gemini CLI for minutes, Codex five
    times), so this is 424 Failed Dependency, which none retries, plus `x-should-retry: false` for the SDKs that
    read it: the message reaches the user's screen at once."""

    status_code = 424
    kind = "needs_user"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "x-should-retry": "false"}


class InternalError(ProxyError):
    status_code = 500
    kind = "api_error"
