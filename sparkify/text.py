"""Text from the data, shown so that nothing that renders it takes it for markup or control.

One function per kind of output; docs/security.md, "Data never runs as markup", lists which
output uses which. HTML pages escape with html.escape (the report page, the Data Docs).
"""

from __future__ import annotations

import re
import unicodedata

# Control characters (ESC, CR, LF, ...), format characters (bidi overrides, zero-width
# characters) and the line and paragraph separators: they move a terminal's cursor, recolour
# it, reorder what it shows or end a line that should not end.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp"))
# What makes markup in a receiver of plain text: HTML tags and entities, Markdown links,
# images, code and emphasis, Slack's <!channel>, <@user> and <url|text>, Discord's @everyone.
_ACTIVE = frozenset("\\<>&[]`*~|@!")
_MARKDOWN_ACTIVE = re.compile(r"[\\`*~|<>&\[\]@]|(?<![^\W_])_|_(?![^\W_])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*|\s*\d+)((?<!\d)[#>+=-]|(?<=\d)[.)])")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)(://)|\b(www)(\.)")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, keep: str = "") -> str:
    """For a terminal or a log line: control and format characters as visible escapes (but
    those in `keep`)."""
    return "".join(_escape(c) if unicodedata.category(c) in _INVISIBLE and c not in keep else c
                   for c in text)


def inert(text: str) -> str:
    """A value from the data in a plain-text message that a receiver may render (a
    notification, the Prefect UI): printable, with every character that makes markup in
    HTML, Markdown or Slack written as an escape (`<` as `\\x3c`); an underscore too, unless it
    is inside a word."""
    return "".join(_escape(c) if c in _ACTIVE or unicodedata.category(c) in _INVISIBLE
                   or (c == "_" and not _in_word(text, i)) else c for i, c in enumerate(text))


def _in_word(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def shown(value: object) -> str:
    """A value from the data quoted in a message: a string in quotes, made inert."""
    return f"'{inert(value)}'" if isinstance(value, str) else inert(repr(value))


def markdown_text(text: str) -> str:
    """Text from anywhere as one line of Markdown text (a table cell, which the Prefect UI
    renders as Markdown too): printable (no newline), every Markdown construct backslash-
    escaped, pipes included, and no autolink."""
    text = _MARKDOWN_ACTIVE.sub(lambda m: "\\" + m.group(0), printable(text))
    text = _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)
    return _AUTOLINK.sub(lambda m: (m.group(1) or m.group(3)) + "\\" + (m.group(2) or m.group(4)),
                         text)


def markdown_code_block(text: str) -> str:
    """Text shown as it is in a Markdown fenced code block: the fence is longer than any run of
    backticks in it, so nothing in the text can close it; control characters but newlines
    escaped."""
    lines = [printable(line) for line in text.split("\n")]
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence, *lines, fence])


def markdown_cells(rows: list[dict]) -> list[dict]:
    """A table artifact's rows with every text cell as Markdown text (the Prefect UI renders
    each text cell as Markdown)."""
    return [{key: markdown_text(value) if isinstance(value, str) else value
             for key, value in row.items()} for row in rows]
