"""Redshift SQL to PostgreSQL: syntax only, never semantics.

What is rewritten is what PostgreSQL has no syntax for: distribution and sort keys, column
encodings, BACKUP, `IDENTITY(seed, step)`, `GETDATE()`/`SYSDATE`, `NVL`, and the session's
`PG_LAST_COPY_COUNT()`/`PG_LAST_COPY_ID()` (answered from the stand-in's own COPY, which
PostgreSQL does not run). One rule adds strictness instead: Redshift's `VARCHAR(n)` holds n
bytes (PostgreSQL's, n characters), so a table's `VARCHAR(n)` column gets a CHECK on its
octet length: a value Redshift would refuse is refused here too.
https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html (VARCHAR: bytes; TEXT is
VARCHAR(256)); https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html (DISTSTYLE,
DISTKEY, SORTKEY, ENCODE, BACKUP, IDENTITY); https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparkify.local.standin.sqltext import rewrite_code

_NAME = r'(?:\x00\d+\x00|[A-Za-z_][\w$]*)'  # a plain name, or a quoted one (held by a placeholder)
_FLAGS = re.IGNORECASE
_SYNTAX = (  # (pattern, replacement): what PostgreSQL lacks the syntax for
    (r"\bDISTSTYLE\s+(?:ALL|EVEN|AUTO|KEY)\b", ""),
    (r"\bDISTKEY\s*\([^)]*\)", ""),
    (r"\b(?:COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*\([^)]*\)", ""),
    (r"\bSORTKEY\s+AUTO\b", ""),
    (r"\b(?:DISTKEY|SORTKEY)\b(?!\s*\()", ""),  # the column attributes
    (r"\bENCODE\s+\w+", ""),
    (r"\bBACKUP\s+(?:YES|NO)\b", ""),
    (r"\bIDENTITY\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)",
     r"GENERATED ALWAYS AS IDENTITY (START WITH \1 INCREMENT BY \2 MINVALUE \1)"),
    (r"\bGETDATE\s*\(\s*\)",  # the statement's start, to the second, in UTC
     "CAST(date_trunc('second', statement_timestamp() AT TIME ZONE 'UTC') AS TIMESTAMP)"),
    (r"\bSYSDATE\b", "CAST(transaction_timestamp() AT TIME ZONE 'UTC' AS TIMESTAMP)"),
    (r"\bNVL\s*\(", "COALESCE("),
)
_CREATE_TABLE = re.compile(r"(?:\s|\x00\d+\x00)*CREATE\s+(?:(?:LOCAL\s+)?TEMP(?:ORARY)?\s+)?TABLE\b",
                           _FLAGS)
_VARCHAR_COLUMN = re.compile(
    rf"(?<![\w$])(?!AS\b)({_NAME})(\s+)(?:(?:VARCHAR|CHARACTER\s+VARYING|NVARCHAR)\s*\(\s*(\d+)\s*\)"
    rf"|(TEXT)\b)", _FLAGS)


@dataclass(frozen=True)
class LastCopy:
    """What PG_LAST_COPY_COUNT() and PG_LAST_COPY_ID() answer in one session."""

    rows: int = 0
    query_id: int = -1  # -1: no COPY in this session yet (PG_LAST_COPY_ID's documented answer)


def translate(sql: str, last_copy: LastCopy = LastCopy()) -> str:
    """The PostgreSQL text of a Redshift statement (COPY excepted: the stand-in runs it)."""
    return rewrite_code(sql, lambda code: _translate_code(code, last_copy))


def _translate_code(code: str, last_copy: LastCopy) -> str:
    if _CREATE_TABLE.match(code):
        code = _VARCHAR_COLUMN.sub(_byte_checked, code)
    for pattern, replacement in _SYNTAX:
        code = re.sub(pattern, replacement, code, flags=_FLAGS)
    code = re.sub(r"\bPG_LAST_COPY_COUNT\s*\(\s*\)", f"CAST({last_copy.rows} AS BIGINT)", code,
                  flags=_FLAGS)
    return re.sub(r"\bPG_LAST_COPY_ID\s*\(\s*\)", f"CAST({last_copy.query_id} AS INTEGER)", code,
                  flags=_FLAGS)


def _byte_checked(match: re.Match) -> str:
    name, space, size, text = match.groups()
    size = size or "256"  # Redshift's TEXT is VARCHAR(256)
    return f"{name}{space}VARCHAR({size}) CHECK (octet_length({name}) <= {size})" if not text \
        else f"{name}{space}VARCHAR(256) CHECK (octet_length({name}) <= 256)"
