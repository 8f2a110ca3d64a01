"""Single JSON values to PostgreSQL COPY text, with the checks a staging column needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from sparkify.staging.schema import BIGINT, FLOAT, INT, TEXT


class BadRecord(ValueError):
    """One source line that cannot become a staging row; the message is the reason."""


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _text(value: Any, key: str) -> str:
    if value is None:
        return NULL
    if isinstance(value, str):
        if "\x00" in value:  # Redshift's COPY refuses the record too: no engine keeps a NUL
            raise BadRecord(f"key '{key}': the text holds a NUL character (\\u0000)")
        return value.translate(_COPY_ESCAPES) if _needs_escape(value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return orjson.dumps(value).decode().translate(_COPY_ESCAPES)


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\x00" in value


def _integer(value: Any, key: str) -> str:
    """Digits with an optional sign, as Redshift's COPY takes into an integer column: a
    fraction, even .0, is its error 1207 ("Invalid digit"); an empty string is NULL
    (https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html,
    https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html)."""
    if value is None or value == "":
        return NULL
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return str(int(value))
    raise BadRecord(f"key '{key}': expected an integer, got {_show(value)}")


_DIGITS = re.compile(r"[+-]?[0-9]+")


def _float(value: Any, key: str) -> str:
    if value is None or value == "":
        return NULL
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, str):
        try:
            return repr(float(value))
        except ValueError:
            pass
    raise BadRecord(f"key '{key}': expected a number, got {_show(value)}")


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."


INTEGER_BOUNDS = {INT: (-2**31, 2**31), BIGINT: (-2**63, 2**63)}  # [low, high)


def _bounded(kind: str) -> Callable[[Any, str], str]:
    low, high = INTEGER_BOUNDS[kind]

    def convert(value: Any, key: str) -> str:
        out = _integer(value, key)
        if out != NULL and not low <= int(out) < high:
            raise BadRecord(f"key '{key}': {out} is out of range for {kind}")
        return out

    return convert


CONVERTERS: dict[str, Callable[[Any, str], str]] = {
    TEXT: _text, INT: _bounded(INT), BIGINT: _bounded(BIGINT), FLOAT: _float,
}

