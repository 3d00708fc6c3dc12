"""config.yaml's YAML: aliases and deep nesting are refused fast, syntax errors name the line of the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.configtexts import alias_bomb
from trayagent.config import parse_config_text
from trayagent.errors import ConfigError
from trayagent.yamlsource import MAX_DEPTH


def problem_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, Path("/cfg/config.yaml"))
    assert len(info.value.problems) == 1, info.value.problems
    assert str(info.value).startswith("/cfg/config.yaml: ")
    return info.value.problems[0]


@pytest.mark.timeout(5)
def test_an_alias_bomb_is_refused_at_once_with_the_line_of_the_first_alias() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 400
    assert problem_of(bomb).startswith("YAML alias *a (line 4, column 12): aliases are not accepted")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("proxy:\n  port: &p 9000\nupstream:\n  connect_timeout: *p\n", 4),
        ("a: &base {port: 9000}\nproxy:\n  <<: *base\n", 3),  # merge keys are aliases too
    ],
)
def test_every_alias_is_refused(text: str, line: int) -> None:
    assert problem_of(text).startswith("YAML alias *") and f"(line {line}," in problem_of(text)


def test_an_anchor_without_alias_is_harmless() -> None:
    assert parse_config_text("proxy:\n  port: &p 9000\n").proxy.port == 9000


@pytest.mark.timeout(5)
def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    assert "nested more than" in problem_of("models:\n  mapping: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested more than" in problem_of("a: " + "[" * 100_000 + "\n")
    nested = "x: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    assert parse_config_text(nested).warnings  # within the bound: parsed (an unknown key, nothing more)


# (text, line of the mistake, what the message says). Each mistake sits on line 3 or later, with lines after it.
MISTAKES = [
    ("proxy:\n  port: 8045\n  allow_lan_access false\n  cors: true\nmonitor:\n  enabled: true\n", 3, "no ': '"),
    ("proxy:\n  port: 8045\n  cors true\n\n# a comment\n\nmonitor:\n  enabled: true\n", 3, "no ': '"),
    ("# mine\nproxy:\n  port: 8045\nmonitor\n  enabled: true\n", 4, "no ': '"),
    ('proxy:\n  port: 8045\n  api_key: "sk-abcdefghijkl\n  cors: true\nmonitor:\n  enabled: true\n', 3, "quote"),
    ("proxy:\n  port: 8045\n  api_key: 'sk-abcdefghijkl\n  cors: true\n", 3, "quote"),
    ("proxy:\n  port: 8045\n\tcors: true\nmonitor:\n  enabled: true\n", 3, "tab"),
    ("proxy:\n  port: 8045\n  cors: true\n allow_lan_access: true\nmonitor: {}\n", 4, "indented"),
    ("proxy:\n  port: 8045\n  cors: true\n    allow_lan_access: true\nmonitor: {}\n", 4, "indented too far"),
    ("proxy:\n  cors: true\n  port:8045\n  allow_lan_access: true\n", 3, "no ': ' after this key"),
    ("proxy:\n  port:8045\n  cors: true\n", 2, "no space after the ':'"),
    ("upstream:\n  user_agent: x\n  endpoints: [https://a.example\n  read_timeout: 5\n", 3, "[ here is not closed"),
    ("models:\n  mapping:\n    a: {b: c\nmonitor:\n  enabled: true\n", 3, "{ here is not closed"),
    ("upstream:\n  endpoints:\n    - https://a.example\n   - https://b.example\n", 4, "indented"),
]


@pytest.mark.parametrize(("text", "line", "says"), MISTAKES)
def test_a_syntax_error_names_the_line_of_the_mistake(text: str, line: int, says: str) -> None:
    problem = problem_of(text)
    assert problem.startswith(f"not valid YAML (line {line}, column "), problem
    assert says in problem
