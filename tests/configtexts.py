"""Hostile config.yaml texts shared by the unit and integration tests."""

from __future__ import annotations


def alias_bomb(levels: int = 8) -> str:
    """The billion-laughs block: each line is nine aliases of the one before, 9**levels values in ~360 bytes.

    The first alias (`*a`) sits on line 4, column 12.
    """
    text = 'models:\n  mapping:\n    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghij"[: levels + 1]
    for prev, name in zip(names, names[1:], strict=False):
        text += f"    {name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
    return text
