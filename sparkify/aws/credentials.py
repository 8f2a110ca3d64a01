"""How a run logs in to Redshift: temporary credentials from IAM (AUTH = iam), or a password.

With AUTH = iam every command asks IAM for a database user and password valid for an hour
(GetClusterCredentials on a cluster; redshift-serverless GetCredentials on a workgroup). They
are kept in memory only, registered as secrets the moment they arrive (so every output masks
them), and never written anywhere. A dry run shows the request and does not send it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws.session import describe_aws_error, error_code
from sparkify.config import PASSWORD_ENV, PASSWORD_SECRET_BLOCK, Settings
from sparkify.errors import ConfigError, WarehouseError
from sparkify.secrets import REDACTED, register_secret

CREDENTIALS_SECONDS = 3600  # the longest either API grants: one run's connections fit in it


@dataclass(frozen=True)
class CredentialsCall:
    """One request for temporary database credentials: which API, with what, and where the
    user and password are in its answer."""

    service: str
    operation: str  # the API's name, e.g. GetClusterCredentials
    params: dict[str, Any] = field(default_factory=dict)
    user_field: str = "DbUser"
    password_field: str = "DbPassword"
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
                                     f"valid {CREDENTIALS_SECONDS // 60} minutes")


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


@dataclass(frozen=True)
class Login:
    """Who a run connects as; `how` says it in words safe to print."""

    user: str
    password: str
    how: str

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
