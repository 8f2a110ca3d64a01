"""How a run logs in to Redshift: temporary credentials from IAM (AUTH = iam), or a password.

With AUTH = iam every command asks IAM for a database user and password valid for an hour
(GetClusterCredentials on a cluster; redshift-serverless GetCredentials on a workgroup). They
are kept in memory only, registered as secrets the moment they arrive (so every output masks
them), and never written anywhere. A dry run shows the request and does not send it.

Every connection logs in anew, and a run may wait for another run's lock or run long: a
`TemporaryLogin` asks again when the credentials it holds are about to expire (each answer
carries its expiration), so no session is opened with expired ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws.session import describe_aws_error, error_code
from sparkify.config import PASSWORD_ENV, PASSWORD_SECRET_BLOCK, Settings
from sparkify.errors import ConfigError, WarehouseError
from sparkify.secrets import REDACTED, register_secret

CREDENTIALS_SECONDS = 3600  # the longest either API grants
RENEW_SECONDS_BEFORE_EXPIRY = 120  # a session opened later logs in with new credentials


@dataclass(frozen=True)
class CredentialsCall:
    """One request for temporary database credentials: which API, with what, and where the
    user and password are in its answer."""

    service: str
    operation: str  # the API's name, e.g. GetClusterCredentials
    params: dict[str, Any] = field(default_factory=dict)
    user_field: str = "DbUser"
    password_field: str = "DbPassword"
    expiration_field: str = "Expiration"
    permission: str = ""  # the IAM action it needs, for the error message

    def describe(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.service} {self.operation}({args})"

    def request(self, client: Callable[[str], Any]) -> Login:
        method = getattr(client(self.service), _snake(self.operation))
        try:
            answer = method(**self.params)
        except (ClientError, BotoCoreError) as exc:
            hint = f" (needs {self.permission})" if error_code(exc) in _DENIED else ""
            raise WarehouseError(f"cannot get temporary database credentials: {self.describe()}"
                                 f": {describe_aws_error(exc)}{hint}") from exc
        user, password = answer[self.user_field], answer[self.password_field]
        register_secret(user)
        register_secret(password)
        return Login(user, password, f"temporary IAM credentials from {self.describe()}, "
                                     f"renewed before they expire",
                     expires_at=_timestamp(answer.get(self.expiration_field)))


def _timestamp(expiration: datetime | None) -> float | None:
    return expiration.timestamp() if isinstance(expiration, datetime) else None


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


@dataclass(frozen=True)
class Login:
    """Who a run connects as; `how` says it in words safe to print."""

    user: str
    password: str
    how: str
    expires_at: float | None = None  # epoch seconds; None: does not expire

    @property
    def shown_user(self) -> str:
        return self.user if self.how.startswith("password") else REDACTED


def login(settings: Settings, call: CredentialsCall, client: Callable[[str], Any], *,
          dry_run: bool) -> Login:
    """The login of this run: IAM's temporary credentials, or the configured password."""
    if settings.auth == "password":
        if not settings.db_password and not dry_run:
            raise ConfigError(f"AUTH = password, but no database password: set {PASSWORD_ENV}, "
                              f"[DWH] DB_PASSWORD or the Prefect Secret block "
                              f"'{PASSWORD_SECRET_BLOCK}' (or use AUTH = iam)")
        return Login(settings.db_user, settings.db_password, "password (AUTH = password)")
    if dry_run:
        return Login("", "", f"temporary IAM credentials from {call.describe()}: user "
                             f"{REDACTED} and password {REDACTED}, not requested on a dry run")
    return call.request(client)


class Logins(Protocol):
    def current(self) -> Login:
        """A login valid for a new session now."""


class FixedLogin:
    """A login that does not expire (a password)."""

    def __init__(self, found: Login) -> None:
        self.found = found

    def current(self) -> Login:
        return self.found


class TemporaryLogin:
    """Temporary credentials, asked for again shortly before they expire. Thread-safe: the
    staging loads and the gates open sessions from several threads."""

    def __init__(self, request: Callable[[], Login], clock: Callable[[], float] = time.time,
                 default_seconds: int = CREDENTIALS_SECONDS) -> None:
        self.request = request
        self.clock = clock
        self.default_seconds = default_seconds
        self._lock = threading.Lock()
        self._login: Login | None = None
        self._renew_at = 0.0

    def current(self) -> Login:
        with self._lock:
            if self._login is None or self.clock() >= self._renew_at:
                asked_at = self.clock()
                self._login = self.request()
                expires = self._login.expires_at or asked_at + self.default_seconds
                self._renew_at = expires - min(RENEW_SECONDS_BEFORE_EXPIRY,
                                               (expires - asked_at) / 2)
            return self._login


def logins(settings: Settings, call: CredentialsCall, client: Callable[[str], Any], *,
           dry_run: bool) -> Logins:
    """How this run logs in: IAM's temporary credentials (renewed), or the configured password.
    The first credentials are asked for now, so that a denied request fails the run at once."""
    if settings.auth == "password" or dry_run:
        return FixedLogin(login(settings, call, client, dry_run=dry_run))
    temporary = TemporaryLogin(lambda: call.request(client))
    temporary.current()
    return temporary
