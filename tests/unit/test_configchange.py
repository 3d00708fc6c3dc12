"""What a reload must do for each kind of edit: rebind, auth swap, or a live update; secrets stay out of logs."""

from __future__ import annotations

import pytest

from trayagent.config import parse_config_text
from trayagent.configchange import diff_config

BASE = "proxy:\n  port: 8045\nmodels:\n  mapping:\n    a: b\n"


@pytest.mark.parametrize(
    ("edit", "keys", "rebind", "auth"),
    [
        ("proxy:\n  port: 9000\nmodels:\n  mapping:\n    a: b\n", ("proxy.port",), True, False),
        (BASE.replace("8045\n", "8045\n  allow_lan_access: true\n"), ("proxy.allow_lan_access",), True, False),
        (BASE.replace("8045\n", "8045\n  auth_mode: strict\n"), ("proxy.auth_mode",), False, True),
        (BASE.replace("8045\n", "8045\n  api_key: sk-secret-123\n"), ("proxy.api_key",), False, True),
        (BASE + "log_level: debug\n", ("log_level",), False, False),
        (BASE.replace("a: b", "a: c"), ("models.mapping",), False, False),
        (BASE.replace("8045\n", "8045\n  max_body_mb: 5\n"), ("proxy.max_body_mb",), False, False),
        (BASE + "# only a comment changed\n", (), False, False),
        ("models:\n  mapping:\n    a: b\nproxy:\n  port: 8045\n", (), False, False),  # reordered, same settings
    ],
    ids=["port", "lan", "auth_mode", "api_key", "log_level", "mapping", "body_limit", "comment", "reorder"],
)
def test_classification(edit: str, keys: tuple[str, ...], rebind: bool, auth: bool) -> None:
    change = diff_config(parse_config_text(BASE), parse_config_text(edit))
    assert change.keys == keys
    assert (change.rebind, change.auth, bool(change)) == (rebind, auth, bool(keys))


def test_describe_shows_values_but_never_secrets() -> None:
    new = parse_config_text(
        "proxy:\n  port: 9000\n  api_key: sk-secret-123\n  cors: false\nmodels:\n  mapping:\n    x: y\n"
    )
    text = diff_config(parse_config_text(BASE), new).describe()
    assert text == "proxy.port 8045 → 9000, proxy.api_key changed, proxy.cors true → false, models.mapping changed"
    assert "sk-secret" not in text
