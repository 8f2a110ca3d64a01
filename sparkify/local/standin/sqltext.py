"""SQL text cut into code and what code rules must not touch: literals, quoted names, comments.

The stand-in's translation and the lint of unsupported features work on the code pieces only,
so that a word inside a string, a quoted name or a comment is never rewritten or flagged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

_OPAQUE = re.compile(
    r"'(?:[^']|'')*'"  # a string literal
    r'|"(?:[^"]|"")*"'  # a quoted identifier
    r"|--[^\n]*"  # a line comment
    r"|/\*.*?\*/"  # a block comment
    r"|\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$",  # a dollar-quoted body
    re.DOTALL)


class Piece(NamedTuple):
    text: str
    is_code: bool


def pieces(sql: str) -> list[Piece]:
    """`sql` as alternating code and opaque pieces, in order; joined they give `sql` back."""
    out, position = [], 0
    for match in _OPAQUE.finditer(sql):
        if match.start() > position:
            out.append(Piece(sql[position:match.start()], True))
        out.append(Piece(match.group(0), False))
        position = match.end()
    if position < len(sql):
        out.append(Piece(sql[position:], True))
    return out


def code_only(sql: str) -> str:
    """The code of `sql` for matching: each literal kept as '', each quoted name as "q", each
    comment dropped."""
    kept = []
    for piece in pieces(sql):
        if piece.is_code:
            kept.append(piece.text)
        elif piece.text.startswith("'"):
            kept.append("''")
        elif piece.text.startswith('"'):
            kept.append('"q"')
        else:
            kept.append(" ")
    return "".join(kept)


def rewrite_code(sql: str, rewrite: Callable[[str], str]) -> str:
    """`sql` with `rewrite` applied to its code, literals, quoted names and comments left as
    they are. The code is rewritten as one text, each opaque piece held by a placeholder, so
    that a rule may span a literal (an option and its quoted value, say)."""
    opaque: list[str] = []
    code = []
    for piece in pieces(sql):
        if piece.is_code:
            code.append(piece.text)
        else:
            code.append(f"\x00{len(opaque)}\x00")
            opaque.append(piece.text)
    rewritten = rewrite("".join(code))
    return re.sub(r"\x00(\d+)\x00", lambda m: opaque[int(m.group(1))], rewritten)
