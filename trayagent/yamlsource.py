"""YAML text → plain Python data plus the line of every key path, for errors that point at the file."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

from trayagent.errors import ConfigError

KeyPath = tuple[Hashable, ...]


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
    loader = yaml.SafeLoader(text)
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
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError([f"not valid YAML{line}: {exc.problem or exc.context}"], source) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source) from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, lines=lines, key_lines=key_lines)


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
