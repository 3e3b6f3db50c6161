"""Tag-value patterns that cannot backtrack catastrophically, and a bounded match.

Tag values are attacker-controlled: anyone who may tag a Bedrock resource chooses the
string the enforcer runs ``allowed_values.<key>.pattern`` on. Python's ``re`` backtracks,
so ``^(a+)+$`` against ``"a" * 40 + "!"`` takes longer than the universe. Two defences:

1. **In the config** (``check_safe_pattern``, called by the config model): reject the
   constructs that make backtracking exponential or unbounded: a quantified group that
   itself contains a quantifier (``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*``), a quantified
   alternation (``(a|a)*``, ``(ab|a)+``), backreferences (``\\1``, ``(?P=name)``),
   lookarounds and conditionals, and patterns over ``MAX_PATTERN_LENGTH``. What remains
   (character classes, literals, single quantifiers, anchors, non-repeated groups and
   alternations) matches in time linear-ish in the input.
2. **At match time** (``bounded_fullmatch``): values longer than ``MAX_VALUE_LENGTH``
   (256, AWS's tag value limit) are refused without running the pattern, so a pattern
   that somehow passed the check still only ever sees short input.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_VALUE_LENGTH = 256
"""AWS tag values are at most 256 Unicode characters."""
MAX_PATTERN_LENGTH = 512

_QUANTIFIER = re.compile(r"(?<!\\)(?:[*+?]|\{\d+(?:,\d*)?\})")


class UnsafePatternError(ValueError):
    """The pattern could backtrack catastrophically (the message says which construct)."""


def _strip_classes_and_escapes(pattern: str) -> str:
    """The pattern with ``[...]`` classes replaced by ``C`` and escapes by ``E`` (structure only)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append("E")
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append("C")
            i = j + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def check_safe_pattern(pattern: str) -> None:
    """Raise ``UnsafePatternError`` for a backtracking-prone or unsupported pattern."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePatternError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UnsafePatternError(f"not a valid regular expression: {exc}") from None
    if re.search(r"\\[1-9]|\(\?P=|\\g<", pattern):
        raise UnsafePatternError("backreferences are not allowed (they defeat linear-time matching)")
    if re.search(r"\(\?(?:[=!]|<[=!]|\()", pattern):
        raise UnsafePatternError("lookarounds and conditionals are not allowed")
    structure = _strip_classes_and_escapes(pattern)
    # Walk the groups: a group followed by a quantifier must contain neither a quantifier
    # nor an alternation.
    stack: list[int] = []
    for index, ch in enumerate(structure):
        if ch == "(":
            stack.append(index)
        elif ch == ")" and stack:
            start = stack.pop()
            if structure[index + 1 : index + 2] not in {"*", "+", "{"}:
                continue  # not repeated (or optional once): nothing to backtrack over
            body = re.sub(r"^\?(?::|P<[^>]*>|[aiLmsux-]+:)", "", structure[start + 1 : index])
            if _QUANTIFIER.search(body):
                raise UnsafePatternError(
                    f"nested quantifier in {pattern!r}: a repeated group contains a quantifier, e.g. (a+)+"
                )
            if "|" in body:
                raise UnsafePatternError(f"repeated alternation in {pattern!r}, e.g. (a|a)*")


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def bounded_fullmatch(pattern: str, value: str, flags: int = 0) -> bool:
    """``re.fullmatch`` on values up to ``MAX_VALUE_LENGTH`` characters; longer never match."""
    if len(value) > MAX_VALUE_LENGTH:
        return False
    return _compiled(pattern, flags).fullmatch(value) is not None
