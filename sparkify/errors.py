"""Errors a user sees as one line: each names what went wrong and where."""


class SparkifyError(Exception):
    """Base for every error reported to the user as a single line."""


class ConfigError(SparkifyError):
    """dwh.cfg or a command-line setting is missing or invalid."""


class SourceError(SparkifyError):
    """The S3 source is missing, empty or unreadable."""


class MalformedRecordError(SparkifyError):
    """Source records that are not valid JSON objects, beyond the tolerated number."""


class WarehouseError(SparkifyError):
    """The warehouse is unreachable or rejected a statement."""


class QualityGateError(SparkifyError):
    """A Great Expectations checkpoint failed."""


class ProvisioningError(SparkifyError):
    """An AWS provisioning or teardown step failed."""


# Redshift aborts one of two conflicting transactions with error 1023, which psycopg2 reports
# as SQLSTATE XX000: "Serializable isolation violation on table ...". Running again succeeds.
_REDSHIFT_SERIALIZABLE = "serializable isolation violation"
# SQLSTATE classes and codes of a lost or refused connection, or a transaction to run again.
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03", "40001", "40P01")


def is_transient(exc: BaseException | None) -> bool:
    """True when `exc` is a connection-level failure worth a retry: a dropped or refused
    connection, a network timeout, or a transaction the server aborted to be run again.

    Never when anything in its chain says the data or the settings are wrong (a malformed
    record, a failed gate, a config error, a SQL data, integrity or syntax error): running
    again would fail the same way, after doing the work again. Nor when Prefect's API failed:
    a task run again would redo its work against an API that its client already retried.
    """
    chain = list(causes(exc))
    if any(isinstance(link, _never_retried()) for link in chain):
        return False
    return any(_is_connection_level(link) for link in chain)


def causes(exc: BaseException | None):
    """`exc`, then what it was raised from or while handling, and so on."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 20:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def _never_retried() -> tuple[type[BaseException], ...]:
    import httpx
    import psycopg2

    # httpx: Prefect's API client (nothing else in a run speaks httpx)
    return (MalformedRecordError, QualityGateError, ConfigError, KeyboardInterrupt, httpx.HTTPError,
            psycopg2.DataError, psycopg2.IntegrityError, psycopg2.ProgrammingError,
            psycopg2.NotSupportedError)


def _is_connection_level(exc: BaseException) -> bool:
    import psycopg2
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, IncompleteReadError

    # botocore's HTTPClientError: a connection closed before the response, a read timeout, or
    # a response stream cut off mid-body (an S3 endpoint that went away while it answered)
    if isinstance(exc, (BotoConnectionError, HTTPClientError, IncompleteReadError,
                        ConnectionError, TimeoutError, psycopg2.InterfaceError)):
        return True
    if not isinstance(exc, psycopg2.Error):
        return False
    code = exc.pgcode
    if code is None:  # raised by libpq itself: the connection failed or was lost
        return isinstance(exc, psycopg2.OperationalError)
    if code == "XX000":
        return _REDSHIFT_SERIALIZABLE in (exc.pgerror or "").lower()
    return code.startswith(_CONNECTION_STATES)


def first_line(exc: BaseException | str) -> str:
    """The first line of an error (a driver's own message when it has one), secrets masked."""
    from sparkify.secrets import redact

    text = exc if isinstance(exc, str) else (getattr(exc, "pgerror", None) or str(exc))
    text = text.strip() or exc.__class__.__name__
    return redact(text.splitlines()[0])


def innermost_line(exc: BaseException | str) -> str:
    """The first line of the innermost cause (libraries such as GX wrap a driver's error)."""
    seen = 0
    while isinstance(exc, BaseException) and exc.__cause__ is not None and seen < 10:
        exc, seen = exc.__cause__, seen + 1
    return first_line(exc)
