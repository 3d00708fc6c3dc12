"""The messages a spawned child and its parent exchange survive the pipe (pickle) whole, and are values."""

from __future__ import annotations

import dataclasses
import logging
import pickle

import pytest

from trayagent.supervision.messages import ConfigProblem, Failed, LogLine, Ready, Reconfigure, Stop
from trayagent.window.windowchild import Page, Show, Shown

MESSAGES = [
    Ready(4242, "127.0.0.1", 8045),
    Ready(4243),
    Failed("port 8045 is already in use on 127.0.0.1"),
    LogLine(logging.WARNING, "trayagent.accounts", "quota refresh failed"),
    Stop(10.0),
    Reconfigure("proxy:\n  port: 8046\n", "/home/me/.config/trayagent/config.yaml", None, "debug"),
    ConfigProblem("proxy.port (line 2): expected an integer 1-65535"),
    ConfigProblem(None),
    Show(Page(origin="http://127.0.0.1:8045", path="/ui/#add", sign_in_url="http://127.0.0.1:8045/ui/login?t=x")),
    Show(Page(html="<p>stopped</p>"), raise_window=False),
    Shown(raised=True),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_a_message_crosses_the_pipe_unchanged(message: object) -> None:
    copy = pickle.loads(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == message and type(copy) is type(message) and copy is not message


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_a_message_is_a_value(message: object) -> None:
    field = dataclasses.fields(message)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(message, field, None)
