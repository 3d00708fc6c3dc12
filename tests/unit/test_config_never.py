"""Settings where 0 has a meaning of its own: `scheduling.quota_refresh_minutes: 0` is "never"."""

from __future__ import annotations

import pytest

from trayagent.config import parse_config_text
from trayagent.errors import ConfigError


@pytest.mark.parametrize("zero", ["0", "0.0"])
def test_quota_refresh_zero_means_never(zero: str) -> None:
    assert parse_config_text(f"scheduling:\n  quota_refresh_minutes: {zero}\n").scheduling.quota_refresh_minutes == 0


@pytest.mark.parametrize("value", ["-1", "false", "20000", "'soon'"])
def test_quota_refresh_other_values_are_still_checked(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(f"scheduling:\n  quota_refresh_minutes: {value}\n")
    assert info.value.problems[0].startswith(
        "scheduling.quota_refresh_minutes (line 2): expected 0 (never) or a number greater than 0 and at most 10080"
    )
