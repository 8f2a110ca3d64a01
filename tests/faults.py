"""Fault injection for the crash tests: a PostgreSQL server of the test's own, to kill and
restart, runs in the background, watching the warehouse for the moment to strike, and the
comparison of every table with a clean run."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from sparkify.quality.targets import GATE_APPLICATION_NAME
from sparkify.model import TABLES

POLL_SECONDS = 0.02
# What differs between two runs of the same data by design: when and by which run a row came.
RUN_COLUMNS = {"load_ledger": {"run_id", "loaded_at"}, "load_errors": {"run_id", "logged_at"}}


class KillablePostgres:
    """A PostgreSQL server (pgserver's binaries) that only this test module uses, so that it can
    be shut down the hard way (`pg_ctl stop -m immediate`: no checkpoint, crash recovery at the
    next start) without touching the session's shared server."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.system_user: str | None = None

    def start(self) -> KillablePostgres:
        import pgserver

        shutil.rmtree(self.data_dir, ignore_errors=True)
        # initdb and the first start; as root, pgserver runs the server as its own user
        self.system_user = pgserver.get_server(self.data_dir, cleanup_mode=None).system_user
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.data_dir}"

    def kill(self) -> None:
        self._pg_ctl("-m", "immediate", "stop")

    def restart(self) -> None:
        """Start again, as pgserver does (socket only, in the data directory), after recovery."""
        self._pg_ctl("-w", "-t", "120", "-o", '-h ""', "-o", f"-k {self.data_dir}",
                     "-l", str(self.data_dir / "log"), "start")

    def close(self) -> None:
        try:
            self._pg_ctl("-m", "fast", "stop")
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH

        # Not capture_output: the server started inherits the pipes and they never close.
        done = subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data_dir), *args],
                              user=self.system_user, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=180)
        if done.returncode != 0:
            log = self.data_dir / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed ({done.returncode}): {tail}")


@dataclass
class BackgroundRun:
    """One call on a thread of its own; `error` is what it raised, if anything."""

    thread: threading.Thread
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, call, **kwargs) -> BackgroundRun:
        run = cls(threading.Thread(target=lambda: None))

        def target() -> None:
            try:
                run.result = call(**kwargs)
            except BaseException as exc:  # noqa: BLE001  (the test inspects it)
                run.error = exc
            finally:
                run.done.set()

        run.thread = threading.Thread(target=target, daemon=True)
        run.thread.start()
        return run

    def wait(self, timeout: float = 300) -> None:
        assert self.done.wait(timeout), f"the run did not end within {timeout:.0f}s"


# The moments to strike, seen from the warehouse itself (%s: the database's name; the watcher's
# own query, which names what it looks for, is left out).
COPY_IN_PROGRESS = (  # the events COPY has streamed some rows and has more to come
    "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy AS progress"
    " JOIN pg_stat_activity USING (pid) WHERE progress.datname = %s AND pid <> pg_backend_pid()"
    " AND query LIKE '%%COPY staging_events%%' AND progress.tuples_processed > 0)")
STAGING_GATE_QUERY = (  # the quality gate's session (its application_name) while the
    # transform's transaction is open (it holds an xid): the staging gate, which starts beside
    # the transform once staging has committed, not the warehouse checkpoint after the commit.
    # The session, not a query of it: run for their verdict, the gate's queries take only
    # milliseconds at this size; its session lasts from its first look at the tables until
    # the gate has its result.
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity AS gate WHERE datname = %s"
    f" AND pid <> pg_backend_pid() AND application_name = '{GATE_APPLICATION_NAME}'"
    " AND EXISTS (SELECT 1 FROM pg_stat_activity AS transform WHERE transform.datname ="
    " gate.datname AND transform.pid <> gate.pid AND transform.backend_xid IS NOT NULL))")
SONGPLAY_INSERT = (  # the transform's fact insert, in the transform's one transaction
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
    " AND pid <> pg_backend_pid() AND query LIKE '%%INSERT INTO songplay (%%')")


def wait_for(url: str, condition: str, run_ended, timeout: float = 300) -> None:
    """Poll the warehouse until `condition` holds; fails if `run_ended()` first, or on timeout."""
    database = url.split("?")[0].rsplit("/", 1)[1]
    conn = psycopg2.connect(url)
    conn.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(condition, (database,))
                if cur.fetchone()[0]:
                    return
                assert not run_ended(), "the run ended before the moment to strike"
                time.sleep(POLL_SECONDS)
    finally:
        conn.close()
    raise AssertionError(f"not seen within {timeout:.0f}s: {condition}")


def task_run_counts(flow_state) -> dict[str, int]:
    """How many times each task of a flow run ran (a retry runs the same task run again)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_state.state_details.flow_run_id])))
    return {run.name.rsplit("-", 1)[0]: run.run_count for run in runs}


def every_table(url: str, without: dict[str, set[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table the pipeline creates, all columns but the run's own and those in
    `without`, in a stable order."""
    skipped = {table: RUN_COLUMNS.get(table, set()) | (without or {}).get(table, set())
               for table in TABLES}
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            tables = {}
            for table in TABLES:
                cur.execute("SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                            (table,))
                columns = [name for (name,) in cur.fetchall() if name not in skipped[table]]
                order = ", ".join(str(n) for n in range(1, len(columns) + 1))
                listed = ", ".join(f'"{name}"' for name in columns)
                cur.execute(f'SELECT {listed} FROM "{table}" ORDER BY {order}')
                tables[table] = cur.fetchall()
            return tables
    finally:
        conn.close()


def counts(url: str, tables) -> dict[str, int]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            found = {}
            for table in tables:
                cur.execute(f'SELECT COUNT(*) FROM "{table}"')
                found[table] = cur.fetchone()[0]
            return found
    finally:
        conn.close()


def short_dir(name: str) -> Path:
    """A directory under /tmp with a short path: PostgreSQL's socket lives in it."""
    return Path("/tmp") / f"{name}-{os.getpid()}"
