"""Keeps secret values out of logs and printed SQL."""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
REDACTED = "****"


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` masks it wherever it appears."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Mask every registered secret and any password in a connection URL."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = re.sub(r"(\w+://[^:/@\s]*:)[^@\s]+@", rf"\g<1>{REDACTED}@", text)
    return re.sub(r"(?i)(password\s*[=:]\s*)'?[^'\s;]+'?", rf"\g<1>{REDACTED}", text)
