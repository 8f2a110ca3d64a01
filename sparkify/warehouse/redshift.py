"""Redshift: the shared SQL, staging by a server-side COPY from S3 with an IAM role.

Everything but the load and the lock is inherited: DDL, transforms and counts run the same SQL
files as on PostgreSQL (Redshift's own versions under sql/redshift/ where the dialects differ).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from pydantic import SecretStr

from sparkify.aws.credentials import Logins, logins
from sparkify.aws.deployments import Deployment
from sparkify.aws.redshift import role_arn
from sparkify.config import Settings
from sparkify.errors import ConfigError, MalformedRecordError, WarehouseError, first_line
from sparkify.quality.targets import QualityTarget, redshift_target
from sparkify.sqllib import quote_redshift_literal
from sparkify.staging.lines import LoadError
from sparkify.store import ObjectStore, S3Location
from sparkify.warehouse.base import (
    Progress, StageResult, StagingSource, Warehouse, WarehouseTarget, malformed_message,
)
from sparkify.warehouse.connection import Connection, Cursor, Recorder
from sparkify.warehouse.copy_failures import CopyContext, explain
from sparkify.warehouse.copy_plan import (  # noqa: F401  (copy_params: part of this engine's API)
    CopySource, by_compression, copy_params, manifest_document, manifest_uri, maxerror, prefix_uri,
)

log = logging.getLogger("sparkify.redshift")

class CopyFailed(WarehouseError, ConfigError):
    """A COPY failed on the role, the bucket's region or the JSONPaths file: retrying cannot help."""


class RedshiftWarehouse(Warehouse):
    """A Redshift cluster: the shared SQL, and staging by COPY from S3 with an IAM role."""

    engine = "redshift"
    reads_local_emulator = False  # COPY runs on the cluster, which cannot reach this machine
    literal = staticmethod(quote_redshift_literal)  # a backslash is an escape in Redshift
    lock_probe_ms = 2000  # how long the first LOCK waits before saying another run holds it

    def __init__(self, dsn: SecretStr | None, schema: str = "public", *, role: str, region: str,
                 manifest_prefix: str = "", recorder: Recorder | None = None,
                 login: Logins | None = None) -> None:
        super().__init__(dsn, schema=schema, recorder=recorder)
        self.role = role
        self.region = region
        self.manifest_prefix = manifest_prefix
        self.login = login  # None: the DSN holds the user and password

    @classmethod
    def target_from_settings(cls, settings: Settings, deployment: Deployment,
                             client: Callable[[str], Any], *, dry_run: bool,
                             loads: bool = True) -> WarehouseTarget:
        """The configured cluster or workgroup over TLS; looks up (once) what settings leave
        empty: the endpoint, the role's ARN when the command `loads` (COPY assumes the role),
        and, with AUTH = iam, this run's temporary credentials (not on a dry run)."""
        host, port = deployment.endpoint(client)
        role = role_arn(settings, client) if loads else ""
        found = logins(settings, deployment.credentials_call(), client, dry_run=dry_run)
        dsn = None
        if not dry_run:  # the user and password are each session's (session_dsn)
            dsn = SecretStr(psycopg2.extensions.make_dsn(
                host=host, port=port, dbname=settings.db_name, sslmode="require",
                application_name="sparkify-elt",
                keepalives=1, keepalives_idle=60,  # long COPYs stay quiet; NAT drops idle TCP
            ))
        first = found.current()
        return WarehouseTarget(cls.engine, dsn, settings.schema,
                               f"Redshift {deployment.name} at {host}:{port}/{settings.db_name} "
                               f"as {first.shown_user}",
                               role_arn=role, region=settings.source_region,
                               manifest_prefix=settings.manifest_prefix, login=first.how,
                               logins=found)

    @classmethod
    def from_target(cls, target: WarehouseTarget,
                    recorder: Recorder | None = None) -> RedshiftWarehouse:
        return cls(target.dsn, target.schema, role=target.role_arn, region=target.region,
                   manifest_prefix=target.manifest_prefix, recorder=recorder, login=target.logins)

    def session_dsn(self) -> str:
        """The DSN with credentials valid now: temporary ones are renewed before they expire,
        so a run that waited for the lock, or ran long, still logs in."""
        dsn = super().session_dsn()
        if self.login is None:
            return dsn
        found = self.login.current()
        return psycopg2.extensions.make_dsn(dsn, user=found.user, password=found.password)

    def check_max_errors(self, max_errors: int) -> None:
        maxerror(max_errors)  # COPY's MAXERROR has a limit

    def quality_target(self) -> QualityTarget:
        parts = psycopg2.extensions.parse_dsn(self.session_dsn())
        return redshift_target(host=parts["host"], port=int(parts["port"]),
                               database=parts["dbname"], user=parts["user"],
                               password=parts.get("password", ""), schema=self.schema)

    @contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Redshift has no advisory locks: hold LOCK elt_lock in a transaction left open."""
        conn = self.connect()  # not autocommit: the lock lasts until this connection closes
        try:
            self._lock(conn, on_wait)
            yield
        finally:
            conn.close()  # ends the transaction, which releases the lock

    def _lock(self, conn: Connection, on_wait: Callable[[], None] | None) -> None:
        try:
            with conn.cursor() as cur:
                self.run(cur, "lock/create")
                conn.commit()
                if not self._try_lock(conn, cur):
                    if on_wait:
                        on_wait()
                    self.run(cur, "lock/acquire")
        except (psycopg2.Error, WarehouseError) as exc:
            raise WarehouseError(f"{self}: cannot take the ELT lock: {first_line(exc)}") from exc

    def _try_lock(self, conn: Connection, cur: Cursor) -> bool:
        """LOCK under a short statement timeout: False when another run holds the lock. The
        timeout is set back to none either way: whether a rollback undoes a SET is not
        something Redshift's documentation says."""
        self.run(cur, "lock/set_timeout", timeout_ms=str(self.lock_probe_ms))
        try:
            cur.execute(self.sql.text("lock/acquire"), label="lock/acquire")
        except psycopg2.errors.QueryCanceled:
            conn.rollback()
            self.run(cur, "lock/set_timeout", timeout_ms="0")
            return False
        self.run(cur, "lock/set_timeout", timeout_ms="0")
        return True

    def stage_all(self, jobs: Sequence[tuple[str, StagingSource]], store: ObjectStore, *,
                  max_errors: int, run_id: str, progress: Callable[[str], Progress] | None = None,
                  between: Callable[[], None] | None = None) -> list[StageResult]:
        """Both staging COPYs at once, each in its own session and transaction: they run on
        the cluster, which loads the two tables in parallel (this machine only waits). Their
        tolerated records go to load_errors afterwards, in one transaction: written by both
        side-by-side transactions, that table would make them conflict under SERIALIZABLE
        isolation (Redshift's rules work on whole tables: one would fail with error 1023).
        https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html"""
        if between:
            between()
        results: dict[str, StageResult] = {}
        failures: dict[str, BaseException] = {}
        reporters = {table: progress(table) if progress else None for table, _ in jobs}

        def stage(table: str, source: StagingSource) -> None:
            try:
                results[table] = self.stage(table, source, store, max_errors=max_errors,
                                            run_id=run_id, progress=reporters[table],
                                            keep_errors=False)
            except BaseException as exc:  # re-raised on the calling thread, below
                failures[table] = exc

        threads = [threading.Thread(target=stage, args=job, name=f"stage {job[0]}")
                   for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.recorder is not None:
            self.recorder.flush()
        for table, _ in jobs:
            if table in failures:
                raise failures[table]
        staged = [results[table] for table, _ in jobs]
        self.keep_load_errors(staged, run_id)
        return staged

    def _load(self, cur: Cursor, table: str, source: StagingSource, store: ObjectStore,
              result: StageResult, *, max_errors: int, run_id: str,
              progress: Progress | None) -> None:
        keys = [obj.uri for obj in source.objects]
        for copy in self.copy_plan(table, source, store, run_id):
            params = copy_params(source=copy.uri, manifest=copy.manifest, role=self.role,
                                 region=self.region, jsonpaths=source.jsonpaths_uri,
                                 max_errors=max_errors, compression=copy.kind)
            self._copy(cur, table, params, max_errors,
                       CopyContext(table, copy.uri, self.role, self.region, source.jsonpaths_uri),
                       keys)
            rows, copy_id = self._last_copy(cur)
            result.rows += rows
            if max_errors:
                result.errors += self.copy_errors(cur.connection.backend_pid, copy_id, keys)
        if progress:
            progress(result.objects, result.rows)

    def copy_plan(self, table: str, source: StagingSource, store: ObjectStore,
                  run_id: str) -> list[CopySource]:
        """One COPY per compression kind: each reads a manifest of exactly its objects, or,
        with one kind only and no MANIFEST_PREFIX, the prefix when it holds exactly them."""
        groups = by_compression(source.objects)
        if not groups:  # nothing new for this table: it stays cleared
            return []
        if not self.manifest_prefix:
            prefix = self._exact_prefix(table, source, store, len(groups))
            return [CopySource(prefix, False, groups[0][0])]
        plan = []
        for kind, objects in groups:
            uri = manifest_uri(self.manifest_prefix, run_id, table, kind)
            location = S3Location.parse(uri)
            store.put(location.bucket, location.prefix, manifest_document(objects),
                      "application/json")
            log.info("COPY manifest of %d %s objects written to %s", len(objects), kind.name, uri)
            plan.append(CopySource(uri, True, kind))
        return plan

    @staticmethod
    def _exact_prefix(table: str, source: StagingSource, store: ObjectStore, kinds: int) -> str:
        """The prefix, when COPY from it loads exactly the objects to load; else a clear error."""
        prefix = prefix_uri(source.prefix_uri)
        if kinds > 1:
            raise ConfigError(
                f"{table}: the objects under {prefix} are of {kinds} compression kinds, and "
                "each kind needs its own COPY: set [S3] MANIFEST_PREFIX to a writable s3:// "
                "location so that each COPY reads a manifest of exactly its keys")
        everything = store.list_objects(S3Location.parse(prefix), suffix="")
        if {obj.key for obj in everything} == {obj.key for obj in source.objects}:
            return prefix
        raise ConfigError(
            f"{table}: {len(source.objects)} of the {len(everything)} objects under {prefix} are "
            "to be loaded (an incremental load, a backfill or non-JSON objects), but a COPY from "
            "the prefix would load them all: set [S3] MANIFEST_PREFIX to a writable s3:// "
            "location so that COPY reads a manifest of exactly these keys")

    def _copy(self, cur: Cursor, table: str, params: dict[str, str], max_errors: int,
              context: CopyContext, keys: Sequence[str] = ()) -> None:
        """Run the COPY; on a rejected load, name the first bad record, and on a failure of
        the role, the region or the JSONPaths file, say which, in one line."""
        try:
            self.run(cur, f"staging/copy_{table}", **params)
        except WarehouseError as exc:
            if cur.connection.closed:  # the connection dropped: keep that (retryable) error
                raise
            cur.connection.rollback()  # the transaction is aborted; the session lives on
            _, copy_id = self._last_copy(cur)
            errors = self.copy_errors(cur.connection.backend_pid, copy_id, keys)
            if errors:
                raise MalformedRecordError(malformed_message(errors[0], max_errors)) from None
            explained = explain(str(exc), context)
            if explained:
                raise CopyFailed(explained) from exc
            raise

    def _last_copy(self, cur: Cursor) -> tuple[int, int]:
        """(rows loaded, query id) of this session's latest COPY."""
        self.run(cur, "staging/last_copy")
        rows, copy_id = cur.fetchone() or (0, None)
        return int(rows or 0), int(copy_id if copy_id is not None else -1)

    def copy_errors(self, session_id: int, copy_id: int,
                    keys: Sequence[str] = ()) -> list[LoadError]:
        """The records the COPY `copy_id` (PG_LAST_COPY_ID()) of the session rejected:
        sys_load_error_detail, else stl_load_errors. Their file names are character(256):
        a longer one is given back whole when it starts exactly one of the COPY's `keys`."""
        if copy_id < 0:  # no COPY ran in this session
            return []
        conn = self.connect()  # its own connection: a failed lookup must not abort the load
        conn.set_autocommit()
        ids = {"session_id": str(session_id), "copy_query_id": str(copy_id)}
        try:
            with conn.cursor() as cur:
                for name in ("staging/copy_errors", "staging/copy_errors_stl"):
                    rows = self._fetch(cur, name, ids)
                    if rows:
                        return [_load_error(_whole_key(row[0], keys), *row[1:]) for row in rows]
            return []
        finally:
            conn.close()

    def _fetch(self, cur: Cursor, name: str, params: dict[str, str]) -> list[tuple]:
        try:
            self.run(cur, name, **params)
            return cur.fetchall()
        except WarehouseError as exc:  # e.g. a serverless workgroup has no STL tables
            log.debug("%s.sql unavailable: %s", name, first_line(exc))
            return []


def _whole_key(cut: str | None, keys: Sequence[str]) -> str | None:
    if not cut or cut in keys:
        return cut
    starting = [key for key in keys if key.startswith(cut)]
    return starting[0] if len(starting) == 1 else cut


def _load_error(source_key: str, line_number: int, column: str | None, reason: str,
                raw_text: str | None) -> LoadError:
    where = f" (column {column})" if column else ""
    return LoadError(source_key or "?", int(line_number or 0), f"{reason}{where}", raw_text or "")
