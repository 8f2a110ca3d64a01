"""The Redshift warehouse: the shared `Warehouse`, with a server-side COPY from S3 as its load.

Everything but `stage` is inherited: DDL, transforms and counts run the same SQL files as on
PostgreSQL (Redshift's own versions under sql/redshift/ where the dialects differ).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson
import psycopg2
import psycopg2.errors
import psycopg2.extensions
from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws import aws_client, describe_aws_error, error_code
from sparkify.config import PASSWORD_ENV, PASSWORD_SECRET_BLOCK, Settings
from sparkify.errors import (
    ConfigError, MalformedRecordError, SourceError, WarehouseError, first_line,
)
from sparkify.records import LoadError
from sparkify.sqllib import quote_literal
from sparkify.storage import S3Location, S3ObjectStore
from sparkify.warehouse import StageResult, StagingSource, Warehouse, malformed_message

log = logging.getLogger("sparkify.redshift")

NO_MANIFEST = "-- no MANIFEST: COPY loads every object under the prefix"


# ---- lookups ----------------------------------------------------------------------------

def cluster_endpoint(settings: Settings) -> tuple[str, int]:
    """(host, port) of the configured cluster, from settings or describe_clusters."""
    if settings.host:
        return settings.host, settings.port
    try:
        clusters = aws_client("redshift", settings.region).describe_clusters(
            ClusterIdentifier=settings.cluster_identifier)["Clusters"]
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) == "ClusterNotFound":
            raise ConfigError(
                f"Redshift cluster '{settings.cluster_identifier}' not found in "
                f"{settings.region}: run flows/provision.py, or set [DWH] HOST") from None
        raise WarehouseError(f"cannot look up cluster '{settings.cluster_identifier}': "
                             f"{describe_aws_error(exc)}") from exc
    endpoint = clusters[0].get("Endpoint") or {}
    if clusters[0].get("ClusterStatus") != "available" or not endpoint.get("Address"):
        raise WarehouseError(f"Redshift cluster '{settings.cluster_identifier}' is "
                             f"{clusters[0].get('ClusterStatus')}, not available")
    return endpoint["Address"], int(endpoint.get("Port") or settings.port)


def role_arn(settings: Settings) -> str:
    """The ARN of the role COPY assumes, from settings or iam get_role."""
    if settings.role_arn:
        return settings.role_arn
    try:
        return aws_client("iam", settings.region).get_role(
            RoleName=settings.iam_role_name)["Role"]["Arn"]
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) == "NoSuchEntity":
            raise ConfigError(f"IAM role '{settings.iam_role_name}' not found: run "
                              "flows/provision.py, or set [DWH] ROLE_ARN") from None
        raise WarehouseError(f"cannot look up role '{settings.iam_role_name}': "
                             f"{describe_aws_error(exc)}") from exc


# ---- COPY statements (also printed by --dry-run) ----------------------------------------

def prefix_uri(uri: str) -> str:
    """A COPY prefix ends in '/', so log_data never also matches log_data_old/."""
    return uri.rstrip("/") + "/"


def manifest_uri(manifest_prefix: str, run_id: str, table: str) -> str:
    return f"{manifest_prefix.rstrip('/')}/{run_id}/{table}.manifest"


def copy_params(*, source: str, manifest: bool, role: str, region: str, jsonpaths: str,
                max_errors: int) -> dict[str, str]:
    """The values of a staging COPY file's placeholders, quoted for SQL."""
    return {
        "source": quote_literal(source),
        "manifest": "MANIFEST" if manifest else NO_MANIFEST,
        "role_arn": quote_literal(role),
        "region": quote_literal(region),
        "jsonpaths": quote_literal(jsonpaths),
        "max_errors": str(int(max_errors)),
    }


def manifest_document(source: StagingSource) -> bytes:
    """A COPY manifest of exactly the discovered objects; a missing one fails the load."""
    entries = [{"url": obj.uri, "mandatory": True} for obj in source.objects]
    return orjson.dumps({"entries": entries}, option=orjson.OPT_INDENT_2)


# ---- the warehouse ----------------------------------------------------------------------

class RedshiftWarehouse(Warehouse):
    """A Redshift cluster: the shared SQL, and staging by COPY from S3 with an IAM role."""

    engine = "redshift"
    lock_probe_ms = 2000  # how long the first LOCK waits before saying another run holds it

    def __init__(self, dsn: str, schema: str = "public", *, role: str, region: str,
                 manifest_prefix: str = "") -> None:
        super().__init__(dsn, schema=schema)
        self.role = role
        self.region = region
        self.manifest_prefix = manifest_prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> RedshiftWarehouse:
        """Connect to the configured cluster over TLS; looks up what settings leave empty."""
        if not settings.db_password:
            raise ConfigError(f"no database password: set {PASSWORD_ENV}, [DWH] DB_PASSWORD or "
                              f"the Prefect Secret block '{PASSWORD_SECRET_BLOCK}'")
        host, port = cluster_endpoint(settings)
        dsn = psycopg2.extensions.make_dsn(
            host=host, port=port, dbname=settings.db_name, user=settings.db_user,
            password=settings.db_password, sslmode="require", application_name="sparkify-elt",
            keepalives=1, keepalives_idle=60,  # long COPYs stay quiet; NAT drops idle TCP
        )
        return cls(dsn, schema=settings.schema, role=role_arn(settings), region=settings.region,
                   manifest_prefix=settings.manifest_prefix)

    @contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Redshift has no advisory locks: hold LOCK elt_lock in a transaction left open."""
        conn = self.connect()  # not autocommit: the lock lasts until this connection closes
        try:
            self._lock(conn, on_wait)
            yield
        finally:
            conn.close()  # ends the transaction, which releases the lock

    def _lock(self, conn, on_wait: Callable[[], None] | None) -> None:
        try:
            with conn.cursor() as cur:
                cur.execute(self.sql.text("lock/create"))
                conn.commit()
                if not self._try_lock(cur):
                    if on_wait:
                        on_wait()
                    cur.execute(self.sql.text("lock/acquire"))
        except psycopg2.Error as exc:
            raise WarehouseError(f"{self}: cannot take the ELT lock: {first_line(exc)}") from exc

    def _try_lock(self, cur) -> bool:
        """LOCK under a short statement timeout: False when another run holds the lock."""
        cur.execute(self.sql.text("lock/set_timeout", timeout_ms=str(self.lock_probe_ms)))
        try:
            cur.execute(self.sql.text("lock/acquire"))
        except psycopg2.errors.QueryCanceled:
            cur.connection.rollback()  # also undoes the SET: the next LOCK waits without limit
            return False
        cur.execute(self.sql.text("lock/set_timeout", timeout_ms="0"))
        return True

    def stage(self, table: str, source: StagingSource, store: S3ObjectStore, *,
              max_errors: int, run_id: str,
              progress: Callable[[int, int], None] | None = None) -> StageResult:
        """Replace `table` by a COPY from S3, in one transaction, keeping tolerated errors."""
        started = time.perf_counter()
        result = StageResult(table, objects=len(source.objects))
        uri, manifest = self.copy_from(table, source, store, run_id)
        params = copy_params(source=uri, manifest=manifest, role=self.role, region=self.region,
                             jsonpaths=source.jsonpaths_uri, max_errors=max_errors)
        with self.transaction() as cur:
            self.run(cur, f"staging/clear_{table}")
            self._copy(cur, table, params, max_errors)
            result.rows, copy_id = self._last_copy(cur)
            if max_errors:
                result.errors = self.copy_errors(cur.connection.get_backend_pid(), copy_id)
            self._record_errors(cur, table, result.errors, run_id)
            self.run(cur, "staging/analyze", table=table)
        if progress:
            progress(result.objects, result.rows)
        result.seconds = time.perf_counter() - started
        return result

    def copy_from(self, table: str, source: StagingSource, store: S3ObjectStore,
                  run_id: str) -> tuple[str, bool]:
        """(uri, is a manifest): a manifest of the objects to load, or their exact prefix."""
        if self.manifest_prefix:
            uri = manifest_uri(self.manifest_prefix, run_id, table)
            return self._write_manifest(store, uri, source), True
        return self._exact_prefix(table, source, store), False

    @staticmethod
    def _exact_prefix(table: str, source: StagingSource, store: S3ObjectStore) -> str:
        """The prefix, when COPY from it loads exactly the objects to load; else a clear error."""
        prefix = prefix_uri(source.prefix_uri)
        everything = store.list_objects(S3Location.parse(prefix), suffix="")
        if {obj.key for obj in everything} == {obj.key for obj in source.objects}:
            return prefix
        raise ConfigError(
            f"{table}: {len(source.objects)} of the {len(everything)} objects under {prefix} are "
            "to be loaded (an incremental load, a backfill or non-JSON objects), but a COPY from "
            "the prefix would load them all: set [S3] MANIFEST_PREFIX to a writable s3:// "
            "location so that COPY reads a manifest of exactly these keys")

    @staticmethod
    def _write_manifest(store: S3ObjectStore, uri: str, source: StagingSource) -> str:
        location = S3Location.parse(uri)
        try:
            store.client.put_object(Bucket=location.bucket, Key=location.prefix,
                                    Body=manifest_document(source),
                                    ContentType="application/json")
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot write the COPY manifest {uri}: "
                              f"{describe_aws_error(exc)}") from exc
        log.info("COPY manifest of %d objects written to %s", len(source.objects), uri)
        return uri

    def _copy(self, cur, table: str, params: dict[str, str], max_errors: int) -> None:
        """Run the COPY; on a rejected load, name the first bad record in one line."""
        try:
            self.run(cur, f"staging/copy_{table}", **params)
        except WarehouseError:
            if cur.connection.closed:  # the connection dropped: keep that (retryable) error
                raise
            cur.connection.rollback()  # the transaction is aborted; the session lives on
            _, copy_id = self._last_copy(cur)
            errors = self.copy_errors(cur.connection.get_backend_pid(), copy_id)
            if errors:
                raise MalformedRecordError(malformed_message(errors[0], max_errors)) from None
            raise

    def _last_copy(self, cur) -> tuple[int, int]:
        """(rows loaded, query id) of this session's latest COPY."""
        cur.execute(self.sql.text("staging/last_copy"))
        rows, copy_id = cur.fetchone()
        return int(rows or 0), int(copy_id if copy_id is not None else -1)

    def copy_errors(self, session_id: int, copy_id: int) -> list[LoadError]:
        """The records a COPY rejected: sys_load_error_detail, else stl_load_errors."""
        conn = self.connect()  # its own connection: a failed lookup must not abort the load
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for name, params in (("staging/copy_errors", {"session_id": str(session_id)}),
                                     ("staging/copy_errors_stl", {"copy_query_id": str(copy_id)})):
                    rows = self._fetch(cur, name, params)
                    if rows:
                        return [_load_error(*row) for row in rows]
            return []
        finally:
            conn.close()

    def _fetch(self, cur, name: str, params: dict[str, str]) -> list[tuple]:
        try:
            cur.execute(self.sql.text(name, **params))
            return cur.fetchall()
        except psycopg2.Error as exc:  # e.g. a serverless workgroup has no STL tables
            log.debug("%s.sql unavailable: %s", name, first_line(exc))
            return []


def _load_error(source_key: str, line_number: int, column: str | None, reason: str,
                raw_text: str | None) -> LoadError:
    where = f" (column {column})" if column else ""
    return LoadError(source_key or "?", int(line_number or 0), f"{reason}{where}", raw_text or "")
