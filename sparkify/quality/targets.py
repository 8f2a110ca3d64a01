"""Where the checkpoints run: GX's data source for the warehouse, as a SQLAlchemy URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from pydantic import SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sparkify.errors import ConfigError
from sparkify.quality.suites import IDENTIFIER
from sparkify.secrets import redact, register_secret



CHECK_WORK_MEM = "256MB"
GATE_APPLICATION_NAME = "sparkify-quality-gate"  # who is who in pg_stat_activity


@dataclass(frozen=True)
class QualityTarget:
    """The GX data source to validate: its kind, its SQLAlchemy URL (secret) and the schema."""

    kind: Literal["postgres", "redshift"]
    connection_string: SecretStr
    schema: str = "public"

    def describe(self) -> str:
        """The URL without its password, for messages."""
        url = make_url(self.connection_string.get_secret_value())
        return redact(unquote(url.render_as_string(hide_password=True)))


def postgres_target(url: str, schema: str = "public") -> QualityTarget:
    """A libpq URL (postgresql://...) in the form GX's PostgreSQL data source accepts.

    GX validates the URL as a DSN that must have a host, which the embedded server's socket
    URL (`postgresql://postgres@/sparkify?host=/path/to/pgdata`) lacks. psycopg2 lets the
    `host` query parameter override the URL's host, so `localhost` is only there to pass the
    check: the connection still goes through the socket.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a PostgreSQL URL: {redact(url)}") from None
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise ConfigError(f"not a PostgreSQL URL: {redact(url)}")
    parsed = parsed.set(drivername="postgresql+psycopg2")
    if not parsed.host:
        parsed = parsed.set(host="localhost")
    if "options" not in parsed.query:
        # The reconciliation checks hash millions of plays: with PostgreSQL's default 4 MB of
        # work_mem their hash joins spill to disk in many batches (docs/performance.md).
        parsed = parsed.update_query_dict({"options": f"-c work_mem={CHECK_WORK_MEM}"})
    if "application_name" not in parsed.query:
        parsed = parsed.update_query_dict({"application_name": GATE_APPLICATION_NAME})
    register_secret(parsed.password)
    return QualityTarget("postgres", SecretStr(_url_text(parsed)), _schema(schema))



def redshift_target(*, host: str, port: int, database: str, user: str, password: str,
                    schema: str) -> QualityTarget:
    """GX's Redshift data source: host, port, database, user, password; TLS on."""
    register_secret(password)
    url = URL.create("redshift+psycopg2", username=user, password=password, host=host,
                     port=port, database=database, query={"sslmode": "require"})
    return QualityTarget("redshift", SecretStr(_url_text(url)), _schema(schema))


def _url_text(url: URL) -> str:
    """The URL as text, user and password fully percent-quoted: SQLAlchemy leaves characters
    such as spaces as they are, which GX's DSN check rejects."""
    anonymous = URL.create(url.drivername, host=url.host, port=url.port, database=url.database,
                           query=url.query)
    text = anonymous.render_as_string(hide_password=False)
    if not url.username:
        return text
    scheme, rest = text.split("://", 1)
    userinfo = quote(url.username, safe="")
    if url.password:
        userinfo += ":" + quote(str(url.password), safe="")
    return f"{scheme}://{userinfo}@{rest}"



def _schema(schema: str) -> str:
    if not IDENTIFIER.match(schema or ""):
        raise ConfigError(f"schema {schema!r} is not a plain SQL identifier")
    return schema

