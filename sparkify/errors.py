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


def is_transient(exc: BaseException | None) -> bool:
    """True when `exc`, or what caused it, is a network or connection failure worth a retry."""
    import psycopg2
    from botocore.exceptions import ConnectionError as BotoConnectionError

    transient = (psycopg2.OperationalError, BotoConnectionError, ConnectionError, TimeoutError)
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, transient):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def first_line(exc: BaseException | str) -> str:
    """The first line of an error (a driver's own message when it has one), secrets masked."""
    from sparkify.secrets import redact

    text = exc if isinstance(exc, str) else (getattr(exc, "pgerror", None) or str(exc))
    text = text.strip() or exc.__class__.__name__
    return redact(text.splitlines()[0])
