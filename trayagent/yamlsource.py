"""YAML text → plain Python data plus the line of every key path, for errors that point at the file.

The loader is PyYAML's safe loader with two refusals a config file never needs: aliases (`*name`, also
in `<<` merges) and nesting deeper than MAX_DEPTH. Aliases share one node wherever they appear, so a few
hundred bytes of them stand for billions of values and every walk over the tree (ours, the merge-key
flattening) becomes exponential; deep nesting exhausts Python's recursion limit. Both are refused with
the line they sit on, before anything walks the tree.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

from trayagent.errors import ConfigError

KeyPath = tuple[Hashable, ...]

MAX_DEPTH = 64  # nested mappings/lists; the real config needs 3


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    # 1-based line of the value at each key path; `key_lines` holds the line of the key itself.
    lines: dict[KeyPath, int] = field(default_factory=dict)
    key_lines: dict[KeyPath, int] = field(default_factory=dict)


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_yaml(text: str, source: str | None = None) -> YamlDocument:
    """Parse one YAML document with the safe loader, recording where each key path sits."""
    loader = _ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None)
        lines: dict[KeyPath, int] = {}
        key_lines: dict[KeyPath, int] = {}
        problems: list[str] = []
        _index(node, (), lines, key_lines, problems)
        if problems:
            raise ConfigError(problems, source)
        data = loader.construct_document(node)
    except _Refused as exc:
        raise ConfigError([str(exc)], source) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([describe_syntax_error(exc, text)], source) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source) from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, lines=lines, key_lines=key_lines)


class _Refused(Exception):
    """Valid YAML this loader will not compose; the message names the line."""


class _ConfigLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases and deep nesting while it composes (see the module docstring)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: yaml.AliasEvent = self.peek_event()  # type: ignore[no-untyped-call]
            raise _Refused(
                f"YAML alias *{event.anchor} {_at(event.start_mark)}: aliases are not accepted in the config "
                "(a few lines of them can stand for billions of values); write the value out in full"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH and not self.check_event(yaml.ScalarEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(f"YAML value {_at(mark)}: nested more than {MAX_DEPTH} levels deep (the config needs 3)")
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def _at(mark: Any) -> str:
    """`(line N, column C)`, 1-based, of a yaml Mark."""
    return f"(line {mark.line + 1}, column {mark.column + 1})"


def describe_syntax_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Say what is wrong where the mistake is, which is not always where PyYAML noticed it.

    A key without its ':', an unclosed quote or an unclosed [ / { are noticed at the next token, often
    lines further on (past blank and comment lines); PyYAML's context mark is where the mistake starts.
    A ':' that is "not allowed here" ends a plain value that ran on from an earlier line: either that
    line lacks the space after its ':' (`port:8045`) or this line is indented too far.
    """
    problem = exc.problem or exc.context or "not valid YAML"
    pm, cm = exc.problem_mark, exc.context_mark
    if cm and exc.context == "while scanning a simple key":
        return f"not valid YAML {_at(cm)}: no ': ' after this key (write `key: value`, with a space)"
    if cm and exc.context == "while scanning a quoted scalar" and "end of stream" in problem:
        return f"not valid YAML {_at(cm)}: the quote here is never closed"
    if cm and exc.context and exc.context.startswith("while parsing a flow "):
        opener = "[" if "sequence" in exc.context else "{"
        return f"not valid YAML {_at(cm)}: the {opener} here is not closed ({problem})"
    if pm is None:
        return f"not valid YAML: {problem}"
    if "'\\t'" in problem:
        problem = "a tab character: YAML indents with spaces only"
    elif problem.startswith("expected <block end>, but found '<block"):
        problem = "this line is indented differently from the lines it belongs with"
    elif problem == "mapping values are not allowed here":
        value = _last_plain_value(text)
        if value is None or value.start_mark.line >= pm.line:
            problem = "a ':' is not allowed here (put a value that contains ': ' in quotes)"
        elif ":" in value.value.split(" ", 1)[0]:
            return f"not valid YAML {_at(value.start_mark)}: no space after the ':' (write `key: value`)"
        else:
            begun = value.start_mark.line + 1
            problem = f"this line is indented too far (it reads as more of the value on line {begun})"
    return f"not valid YAML {_at(pm)}: {problem}"


def _last_plain_value(text: str) -> yaml.ScalarToken | None:
    """The last unquoted scalar the scanner produced before failing."""
    last: yaml.Token | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            last = token
    except yaml.YAMLError:
        pass
    return last if isinstance(last, yaml.ScalarToken) and last.plain else None


def _index(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    key_lines: dict[KeyPath, int],
    problems: list[str],
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            key: Hashable = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    f"{format_path((*path, key))} (line {line}): duplicate key, first set on line {seen[key]}"
                )
                continue
            seen[key] = line
            key_lines[(*path, key)] = line
            _index(value_node, (*path, key), lines, key_lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, key_lines, problems)
