"""The formats of the settings that end up in SQL text, as a literal or a name.

Each is a `str` that checks itself when it is made, so that a setting in the wrong format is
refused, naming the setting, when the settings load: before anything connects. The quoting
of each engine (sparkify/sqllib.py) stays the second line of defence, not the only one.
"""

from __future__ import annotations

import re


class CheckedStr(str):
    """A string that matches PATTERN; EXPECTED says what it must be, LABEL names the kind."""

    PATTERN: re.Pattern[str]
    EXPECTED: str
    LABEL: str

    def __new__(cls, value: str) -> CheckedStr:
        if not cls.PATTERN.match(value):
            raise ValueError(value)
        return super().__new__(cls, value)


class Identifier(CheckedStr):
    """A plain SQL name: letters, digits and _, not starting with a digit."""

    PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    EXPECTED = "a valid identifier"
    LABEL = "identifier"


class Region(CheckedStr):
    """An AWS region name, such as us-west-2, eu-central-1 or us-gov-west-1."""

    PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
    EXPECTED = "an AWS region name such as us-west-2"
    LABEL = "region"


class RoleArn(CheckedStr):
    """The ARN of one IAM role: arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>.

    Role names and paths hold letters, digits and + = , . @ _ - only (IAM's own limits).
    """

    PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
    EXPECTED = "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
    LABEL = "role ARN"


class S3Uri(CheckedStr):
    """s3://bucket[/key]: a bucket name as S3 allows it today (3-63 lower-case letters, digits,
    dots and hyphens), then key characters from S3's safe and ordinary sets; no whitespace,
    control character, backslash, double quote or any of { } [ ] < > ^ % ` ~ # |, which S3's
    object key guidelines say to avoid."""

    PATTERN = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[\w!\-.*'()/=+,@:;&$]*)?$")
    EXPECTED = "an s3://bucket/key URI (no spaces, backslashes or double quotes)"
    LABEL = "s3 URI"


def label(kind: type) -> str:
    """How dwh.cfg.example names a setting's type: [str], [int], [s3 URI], ..."""
    return getattr(kind, "LABEL", kind.__name__.lower())
