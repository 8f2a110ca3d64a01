"""JSONPaths files: which value of an event fills which staging_events column."""

from __future__ import annotations

import re
from typing import Any

import orjson

from sparkify.errors import SourceError
from sparkify.staging.schema import StagingTable

_PATH_STEP = re.compile(
    r"""\[\s*'((?:[^'\\]|\\.)*)'\s*\]"""  # ['key']
    r"""|\[\s*"((?:[^"\\]|\\.)*)"\s*\]"""  # ["key"]
    r"""|\[\s*(\d+)\s*\]"""  # [0]
    r"""|\.([A-Za-z_][\w]*)"""  # .key
)


def parse_jsonpath(path: str) -> tuple[str | int, ...]:
    """`$['a']['b'][0]` or `$.a.b[0]` as a tuple of keys and indexes."""
    if not path.startswith("$"):
        raise ValueError(path)
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if not match:
            raise ValueError(path)
        single, double, index, dotted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(s for s in (single, double, dotted) if s is not None))
        position = match.end()
    if not steps:
        raise ValueError(path)
    return tuple(steps)


def load_jsonpaths(document: bytes, where: str, table: StagingTable) -> tuple[tuple, ...]:
    """The parsed paths of a JSONPaths file, one per column of `table`."""
    try:
        paths = orjson.loads(document)["jsonpaths"]
        parsed = tuple(parse_jsonpath(p) for p in paths)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{where}: not a JSONPaths file ({exc.__class__.__name__}: {exc})") from None
    if len(parsed) != len(table.columns):
        raise SourceError(
            f"{where}: {len(parsed)} JSONPaths for the {len(table.columns)} columns of {table.name}"
        )
    return parsed


def extract_path(document: Any, steps: tuple) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return None
            document = document[step]
        elif isinstance(document, dict):
            document = document.get(step)
        else:
            return None
    return document

