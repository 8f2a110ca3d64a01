"""The Redshift engine, run against PostgreSQL: `RedshiftWarehouse` with the stand-in's sessions.

Everything is the Redshift engine's own (its SQL overlay, copy plan and manifests, COPY error
views, lock, side-by-side COPYs, credentials renewed before they expire); only its sessions
differ: each statement goes through the stand-in (session.py) on its way to PostgreSQL. GX's
checkpoints run through GX's PostgreSQL data source on the same database and login: its
Redshift one (sqlalchemy-redshift) reads Redshift's own catalog (format_encoding,
svv_external_*), which PostgreSQL lacks.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import psycopg2.extensions
from pydantic import SecretStr
from sqlalchemy.engine import URL

from sparkify.aws.credentials import Login, Logins, TemporaryLogin
from sparkify.errors import ConfigError
from sparkify.local.emulator import EMULATOR_BUCKET, EMULATOR_REGION, emulator_session
from sparkify.local.standin.database import StrictPostgres
from sparkify.local.standin.session import StandInSession, connect
from sparkify.quality.targets import QualityTarget, postgres_target
from sparkify.secrets import redact, register_secret
from sparkify.warehouse.base import CONNECT_TIMEOUT_SECONDS, WarehouseTarget
from sparkify.warehouse.connection import Recorder
from sparkify.warehouse.redshift import RedshiftWarehouse

STANDIN_ROLE = "arn:aws:iam::000000000000:role/sparkify-redshift-standin"  # COPY's IAM_ROLE
STANDIN_MANIFESTS = f"s3://{EMULATOR_BUCKET}/_sparkify/manifests"
CREDENTIAL_SECONDS = 900  # the least GetClusterCredentials grants: renewals happen in long runs


class StandInRedshiftWarehouse(RedshiftWarehouse):
    """The Redshift engine whose sessions go through the stand-in to a PostgreSQL."""

    name = "redshift-standin"
    reads_local_emulator = True  # its COPY reads the S3 emulator

    def __init__(self, dsn: SecretStr | None, schema: str = "public", *, s3_endpoint: str = "",
                 manifest_prefix: str = STANDIN_MANIFESTS, recorder: Recorder | None = None,
                 login: Logins | None = None) -> None:
        super().__init__(dsn, schema, role=STANDIN_ROLE, region=EMULATOR_REGION,
                         manifest_prefix=manifest_prefix, recorder=recorder, login=login)
        self.s3_endpoint = s3_endpoint

    @classmethod
    def from_target(cls, target: WarehouseTarget,
                    recorder: Recorder | None = None) -> "StandInRedshiftWarehouse":
        return cls(target.dsn, target.schema, s3_endpoint=target.s3_endpoint,
                   manifest_prefix=target.manifest_prefix, recorder=recorder, login=target.logins)

    @classmethod
    def standin_target(cls, services: ExitStack, schema: str, s3_endpoint: str, *,
                       warehouse_url: SecretStr | None, manifest_prefix: str,
                       dry_run: bool) -> WarehouseTarget:
        """The caller's database and login as they are (`warehouse_url`), or the strict one."""
        fields = dict(role_arn=STANDIN_ROLE, region=EMULATOR_REGION, s3_endpoint=s3_endpoint,
                      manifest_prefix=manifest_prefix or STANDIN_MANIFESTS)
        if warehouse_url is not None:
            url = warehouse_url.get_secret_value()
            if not url.startswith(("postgresql://", "postgres://")):
                raise ConfigError("--warehouse-url must be a postgresql:// URL")
            where = f"the Redshift stand-in on {redact(url)}"
            return WarehouseTarget(cls.name, None if dry_run else warehouse_url, schema, where,
                                   login="as given by --warehouse-url", **fields)
        server = StrictPostgres()
        where = f"the Redshift stand-in in {server.data_dir} (database {server.database})"
        if dry_run:
            return WarehouseTarget(cls.name, None, schema, where, **fields)
        services.enter_context(server)
        logins = standin_logins(server, CREDENTIAL_SECONDS)
        return WarehouseTarget(cls.name, SecretStr(server.login_url("")), schema, where,
                               login=logins.current().how, logins=logins, **fields)

    def _open(self, dsn: str):
        s3 = emulator_session().client("s3", endpoint_url=self.s3_endpoint,
                                       region_name=EMULATOR_REGION)
        return connect(dsn, StandInSession(s3, EMULATOR_REGION),
                       connect_timeout=CONNECT_TIMEOUT_SECONDS)

    def quality_target(self) -> QualityTarget:
        parts = psycopg2.extensions.parse_dsn(self.session_dsn())
        host = parts.pop("host", None)
        url = URL.create("postgresql", username=parts.get("user"), password=parts.get("password"),
                         database=parts.get("dbname"), query={"host": host} if host else {})
        return postgres_target(url.render_as_string(hide_password=False), self.schema)


def standin_logins(server: StrictPostgres, seconds: int) -> Logins:
    """Temporary passwords for the strict login, as IAM hands out database credentials."""
    def request() -> Login:
        password = server.issue_password(seconds)
        register_secret(password)
        return Login(server.login, password, f"temporary credentials of login {server.login}, "
                                             f"valid {seconds} s, renewed before they expire",
                     expires_at=time.time() + seconds)

    return TemporaryLogin(request)


