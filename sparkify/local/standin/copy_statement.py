"""A Redshift `COPY ... FROM 's3://...'` statement read into its parts, strictly: an option the
stand-in does not implement is an error, never ignored.
https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html and its parameter pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparkify.local.standin.sqltext import pieces

COMPRESSIONS = ("GZIP", "ZSTD", "BZIP2")
_ON_OFF = ("ON", "OFF", "TRUE", "FALSE")


class CopySyntaxError(ValueError):
    """The COPY statement cannot run (Redshift would refuse it, or the stand-in cannot)."""


@dataclass(frozen=True)
class CopyCommand:
    table: str
    columns: tuple[str, ...]  # empty: every column of the table, in order
    source: str  # s3:// prefix, or the manifest with MANIFEST
    iam_role: str
    json: str  # 'auto', 'auto ignorecase' or the s3:// URI of a JSONPaths file
    manifest: bool = False
    compression: str = ""  # GZIP, ZSTD, BZIP2 or ''
    region: str = ""
    max_errors: int = 0


def is_s3_copy(sql: str) -> bool:
    words = _tokens(sql)
    return bool(words) and words[0] == "COPY" and "FROM" in words and any(
        w.startswith("'s3://") for w in words)


def parse_copy(sql: str) -> CopyCommand:
    tokens = _tokens(sql)
    if tokens[:1] != ["COPY"] or len(tokens) < 4:
        raise CopySyntaxError("not a COPY statement")
    table, position = tokens[1].lower(), 2
    columns: list[str] = []
    if tokens[position] == "(":
        close = tokens.index(")", position)
        columns = [t.lower() for t in tokens[position + 1:close] if t != ","]
        position = close + 1
    if tokens[position] != "FROM" or not tokens[position + 1].startswith("'"):
        raise CopySyntaxError("COPY needs FROM 's3://...'")
    options = _options(tokens[position + 2:])
    return CopyCommand(table, tuple(columns), _literal(tokens[position + 1]), **options)


def _options(tokens: list[str]) -> dict:
    found: dict = {}
    position = 0
    while position < len(tokens):
        word = tokens[position]
        position += 1
        if word == "AS":
            continue
        if word == "IAM_ROLE":
            found["iam_role"], position = _value(tokens, position)
        elif word == "FORMAT":
            continue  # FORMAT [AS] JSON ...
        elif word == "JSON":
            found["json"], position = _value(tokens, position)
        elif word == "MANIFEST":
            found["manifest"] = True
        elif word in COMPRESSIONS:
            found["compression"] = word
        elif word == "REGION":
            found["region"], position = _value(tokens, position)
        elif word in ("COMPUPDATE", "STATUPDATE"):
            if position < len(tokens) and tokens[position] in _ON_OFF + ("PRESET",):
                position += 1
        elif word == "MAXERROR":
            value, position = _value(tokens, position)
            found["max_errors"] = int(value)
        else:
            raise CopySyntaxError(f"the Redshift stand-in does not implement the COPY option {word}")
    for required, what in (("iam_role", "IAM_ROLE"), ("json", "FORMAT AS JSON")):
        if required not in found:
            raise CopySyntaxError(f"the Redshift stand-in runs COPY with {what} only")
    if found.get("json", "").lower() not in ("auto", "auto ignorecase") and \
            not found["json"].startswith("s3://"):
        raise CopySyntaxError(f"FORMAT AS JSON {found['json']!r}: 'auto', 'auto ignorecase' or "
                              "an s3:// JSONPaths file")
    return found


def _value(tokens: list[str], position: int) -> tuple[str, int]:
    if position < len(tokens) and tokens[position] == "AS":
        position += 1
    if position >= len(tokens):
        raise CopySyntaxError("a COPY option lacks its value")
    token = tokens[position]
    return (_literal(token) if token.startswith("'") else token), position + 1


def _literal(token: str) -> str:
    return token[1:-1].replace("''", "'")


def _tokens(sql: str) -> list[str]:
    """Upper-cased words, parentheses, commas and string literals (kept quoted), no comments."""
    out: list[str] = []
    for piece in pieces(sql):
        if not piece.is_code:
            if piece.text.startswith("'"):
                out.append(piece.text)
            elif piece.text.startswith('"'):
                out.append(piece.text[1:-1].replace('""', '"'))
            continue
        out += [t.upper() for t in re.findall(r"[A-Za-z_][\w$.]*|\d+|[(),]", piece.text)]
    return out
