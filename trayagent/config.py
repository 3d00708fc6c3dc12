"""The configuration: an immutable snapshot of config.yaml, validated with errors that point at lines.

`parse_config(mapping)` is pure; `load_config(path)` reads the file; `ensure_config_file(path)` writes
the commented sample on first run. A reload builds a new `Config` and swaps it whole.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from trayagent.errors import ConfigError
from trayagent.files.atomicfile import write_atomic
from trayagent.origins import normalise_origin
from trayagent.yamlsource import KeyPath, format_path, parse_yaml

AuthMode = Literal["off", "strict", "all_except_health", "auto"]
EffectiveAuthMode = Literal["off", "strict", "all_except_health"]
SchedulingMode = Literal["balance", "performance", "fixed"]
LogLevel = Literal["debug", "info", "warning", "error"]

DEFAULT_ENDPOINTS = (
    "https://daily-cloudcode-pa.sandbox.googleapis.com/v1internal",
    "https://daily-cloudcode-pa.googleapis.com/v1internal",
    "https://cloudcode-pa.googleapis.com/v1internal",
)
# The public installed-app client of the Antigravity IDE (printed in every open-source gateway).
DEFAULT_OAUTH_CLIENT_ID = "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com"
DEFAULT_OAUTH_CLIENT_SECRET = "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"


class _Invalid(Exception):
    """A value failed its check; the message says what was expected (and, if `shows_value`, what came)."""

    def __init__(self, message: str, *, shows_value: bool = False) -> None:
        super().__init__(message)
        self.shows_value = shows_value


Check = Callable[[Any], Any]


def _check(fn: Check) -> dict[str, Check]:
    return {"check": fn}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _integer(lo: int, hi: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _Invalid(f"expected an integer {lo}-{hi}")
        return value

    return check


def _number(lo: float, hi: float) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo < value <= hi:
            raise _Invalid(f"expected a number greater than {lo:g} and at most {hi:g}")
        return float(value)

    return check


def _zero_or(inner: Check, zero_means: str) -> Check:
    """0 is a setting of its own (`zero_means`, e.g. "never"); anything else goes to `inner`."""

    def check(value: Any) -> Any:
        if not isinstance(value, bool) and value == 0:
            return 0.0
        try:
            return inner(value)
        except _Invalid as exc:
            raise _Invalid(f"expected 0 ({zero_means}) or {str(exc).removeprefix('expected ')}") from None

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("expected true or false")
    return value


def _choice(*options: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise _Invalid(f"expected one of {', '.join(options)}")
        return value.lower()

    return check


def _auth_mode(value: Any) -> str:
    # YAML 1.1 reads a bare `off` as false; that is what a user writing `auth_mode: off` means.
    if value is False:
        return "off"
    result: str = _choice("off", "strict", "all_except_health", "auto")(value)
    return result


def _optional(inner: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty string")
    return value.strip()


def _url(*schemes: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or urlsplit(value).scheme not in schemes or not urlsplit(value).netloc:
            raise _Invalid(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return value.rstrip("/")

    return check


def _api_key(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("sk-") or len(value) < 10:
        raise _Invalid('expected a key starting with "sk-", at least 10 characters, or null to generate one')
    if any(c.isspace() for c in value):
        raise _Invalid("expected a key without spaces")
    return value


def _endpoint_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("expected a non-empty list of URLs")
    check = _url("https", "http")
    out = []
    for i, item in enumerate(value):
        try:
            out.append(check(item))
        except _Invalid as exc:
            raise _Invalid(f"item {i}: {exc}, got {_describe(item)}", shows_value=True) from None
    return tuple(out)


def _origin_list(value: Any) -> tuple[str, ...]:
    """proxy.cors_origins: web origins trusted to use the proxy where it needs no key, as browsers write them."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Invalid("expected a list of origins like https://chat.example.com")
    out: list[str] = []
    for i, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError("expected an origin like https://chat.example.com")
            origin = normalise_origin(item)
        except ValueError as exc:
            raise _Invalid(f"item {i}: {exc}, got {_describe(item)}", shows_value=True) from None
        if origin not in out:
            out.append(origin)
    return tuple(out)


def _model_mapping(value: Any) -> Mapping[str, str]:
    if value is None:
        return types.MappingProxyType({})
    if not isinstance(value, Mapping):
        raise _Invalid("expected a mapping of requested model name → upstream model name")
    for key, target in value.items():
        if not isinstance(key, str) or not isinstance(target, str) or not key or not target:
            raise _Invalid(
                f"expected model names as strings, got {_describe(key)}: {_describe(target)}",
                shows_value=True,
            )
    return types.MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True)
class ProxySettings:
    port: int = field(default=8045, metadata=_check(_integer(1, 65535)))
    allow_lan_access: bool = field(default=False, metadata=_check(_boolean))
    auth_mode: AuthMode = field(default="auto", metadata=_check(_auth_mode))
    api_key: str | None = field(default=None, metadata=_check(_optional(_api_key)))
    request_timeout: float = field(default=600.0, metadata=_check(_number(0, 86400)))
    max_body_mb: float = field(default=100.0, metadata=_check(_number(0, 4096)))
    cors: bool = field(default=True, metadata=_check(_boolean))
    cors_origins: tuple[str, ...] = field(default=(), metadata=_check(_origin_list))

    @property
    def bind_host(self) -> str:
        return "0.0.0.0" if self.allow_lan_access else "127.0.0.1"

    @property
    def effective_auth_mode(self) -> EffectiveAuthMode:
        if self.auth_mode == "auto":
            return "all_except_health" if self.allow_lan_access else "off"
        return self.auth_mode

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    mapping: Mapping[str, str] = field(
        default_factory=lambda: types.MappingProxyType({}), metadata=_check(_model_mapping)
    )


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    endpoints: tuple[str, ...] = field(default=DEFAULT_ENDPOINTS, metadata=_check(_endpoint_list))
    user_agent: str | None = field(default=None, metadata=_check(_optional(_text)))
    http_proxy: str | None = field(default=None, metadata=_check(_optional(_url("http", "https", "socks5", "socks5h"))))
    connect_timeout: float = field(default=10.0, metadata=_check(_number(0.1, 600)))
    read_timeout: float = field(default=120.0, metadata=_check(_number(0.1, 3600)))


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    client_id: str = field(default=DEFAULT_OAUTH_CLIENT_ID, metadata=_check(_text))
    client_secret: str = field(default=DEFAULT_OAUTH_CLIENT_SECRET, metadata=_check(_text))
    auth_url: str = field(
        default="https://accounts.google.com/o/oauth2/v2/auth", metadata=_check(_url("https", "http"))
    )
    token_url: str = field(default="https://oauth2.googleapis.com/token", metadata=_check(_url("https", "http")))
    userinfo_url: str = field(
        default="https://www.googleapis.com/oauth2/v2/userinfo", metadata=_check(_url("https", "http"))
    )


@dataclass(frozen=True, slots=True)
class SchedulingSettings:
    mode: SchedulingMode = field(default="balance", metadata=_check(_choice("balance", "performance", "fixed")))
    fixed_account: str | None = field(default=None, metadata=_check(_optional(_text)))
    max_attempts: int = field(default=3, metadata=_check(_integer(1, 50)))
    cooldown_cap_s: float = field(default=300.0, metadata=_check(_number(0, 7 * 86400)))
    # 0: never (the proxy reads quota only when asked: sign-in, the Refresh action, `accounts refresh`).
    quota_refresh_minutes: float = field(default=15.0, metadata=_check(_zero_or(_number(0, 7 * 24 * 60), "never")))


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    enabled: bool = field(default=True, metadata=_check(_boolean))
    retention_days: int = field(default=30, metadata=_check(_integer(1, 3650)))
    log_bodies: bool = field(default=False, metadata=_check(_boolean))


@dataclass(frozen=True, slots=True)
class Config:
    proxy: ProxySettings = field(default_factory=ProxySettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    upstream: UpstreamSettings = field(default_factory=UpstreamSettings)
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    scheduling: SchedulingSettings = field(default_factory=SchedulingSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    log_level: LogLevel = field(default="info", metadata=_check(_choice("debug", "info", "warning", "error")))
    # Where it came from and what was noticed but tolerated (unknown keys); not settings themselves.
    source: Path | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)


_SECTIONS: dict[str, type[Any]] = {
    "proxy": ProxySettings,
    "models": ModelSettings,
    "upstream": UpstreamSettings,
    "oauth": OAuthSettings,
    "scheduling": SchedulingSettings,
    "monitor": MonitorSettings,
}
_META_FIELDS = {"source", "warnings"}


def parse_config(
    mapping: Mapping[Hashable, Any] | None,
    *,
    lines: Mapping[KeyPath, int] | None = None,
    key_lines: Mapping[KeyPath, int] | None = None,
    source: Path | None = None,
) -> Config:
    """Validate plain data (as YAML gives it) into a Config. Raises ConfigError listing every problem.

    `lines`/`key_lines` (from `yamlsource.parse_yaml`) only enrich messages with line numbers.
    """
    lines = lines or {}
    key_lines = key_lines or {}
    problems: list[str] = []
    warnings: list[tuple[int, str]] = []  # (line, text), reported in file order

    def where(path: KeyPath, *, key: bool = False) -> str:
        line = (key_lines if key else lines).get(path) or lines.get(path)
        return f"{format_path(path)} (line {line})" if line else format_path(path)

    def build(cls: type[Any], raw: Any, path: KeyPath) -> Any:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            problems.append(f"{where(path)}: expected a mapping of settings, got {_describe(raw)}")
            return cls()
        known = [f.name for f in fields(cls) if f.name not in _META_FIELDS]
        for key in raw:
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                line = key_lines.get((*path, key), 0)
                warnings.append((line, f"{where((*path, key), key=True)}: unknown key, ignored{suggestion}"))
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in _META_FIELDS or f.name not in raw:
                continue
            sub = (*path, f.name)
            if f.name in _SECTIONS and not path:
                values[f.name] = build(_SECTIONS[f.name], raw[f.name], sub)
                continue
            try:
                values[f.name] = f.metadata["check"](raw[f.name])
            except _Invalid as exc:
                got = "" if exc.shows_value else f", got {_describe(raw[f.name])}"
                problems.append(f"{where(sub)}: {exc}{got}")
        return cls(**values)

    config = cast(Config, build(Config, mapping, ()))
    if config.scheduling.mode == "fixed" and not config.scheduling.fixed_account:
        problems.append(f"{where(('scheduling', 'mode'))}: mode fixed needs scheduling.fixed_account (an email)")
    if problems:
        raise ConfigError(problems, str(source) if source else None)
    return Config(
        **{f.name: getattr(config, f.name) for f in fields(Config) if f.name not in _META_FIELDS},
        source=source,
        warnings=tuple(text for _, text in sorted(warnings, key=lambda w: w[0])),
    )


def parse_config_text(text: str, source: Path | None = None) -> Config:
    doc = parse_yaml(text, str(source) if source else None)
    return parse_config(doc.data, lines=doc.lines, key_lines=doc.key_lines, source=source)


def load_config(path: Path) -> Config:
    """Read and validate a config file. Raises ConfigError (missing, unreadable, invalid)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found"], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read the file: {exc}"], str(path)) from None
    return parse_config_text(text, path)


def sample_config_text() -> str:
    """The commented sample shipped with the package (the repository's sample-config.yaml)."""
    packaged = resources.files("trayagent").joinpath("sample-config.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # An editable install runs from the source tree, where the sample sits at the top level.
    return (Path(__file__).resolve().parent.parent / "sample-config.yaml").read_text(encoding="utf-8")


def ensure_config_file(path: Path) -> bool:
    """Write the commented sample at `path` if no file is there. Returns True when it wrote one."""
    if path.exists():
        return False
    write_atomic(path, sample_config_text().encode("utf-8"), mode=0o600)
    return True
