"""Crash-consistent reruns: kill the warehouse, the S3 emulator or the run itself mid-way,
restart what was killed, run again, and get exactly the tables of a clean run.

The one difference allowed is the README's songplay_id rule: a crash inside the transform
consumes identity values that no rollback returns, so the rerun's songplay_id may skip values;
they stay unique, and later reruns keep them. Every other column of every table, and songplay
without its surrogate key, must equal the clean run's.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import SourceError, SparkifyError
from sparkify.local.generator import GeneratorSpec, generate
from sparkify.sqllib import STAR_TABLES
from tests.faults import (
    COPY_IN_PROGRESS, SONGPLAY_INSERT, STAGING_GATE_QUERY, BackgroundRun, KillablePostgres,
    counts, create_database, drop_database, every_table, short_dir, task_run_counts, wait_for,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

# ~30k events over 30 daily objects and ~290 song objects: each phase lasts long enough to be
# caught from pg_stat_activity (the COPY, the transform's statements, the gate's queries).
SPEC = GeneratorSpec.for_events(30_000, seed=13)
WITHOUT_ID = {"songplay": {"songplay_id"}}
COMMITTED_BY_THE_TRANSFORM = (*STAR_TABLES, "load_ledger")


def run(data, url, **options):
    return elt(data=str(data), warehouse_url=SecretStr(url), **options)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash-data")
    generate(root, SPEC)
    return root


@pytest.fixture(scope="module")
def clean(data, postgres_server_url, prefect_harness):
    """Every table after one uninterrupted run of the data set on a database of its own."""
    url = create_database(postgres_server_url, "t_crash_clean")
    run(data, url)
    tables = every_table(url, WITHOUT_ID)
    assert len(tables["songplay"]) > 20_000 and len(tables["load_ledger"]) > 300
    drop_database(postgres_server_url, "t_crash_clean")
    return tables


@pytest.fixture(scope="module")
def killable():
    server = KillablePostgres(short_dir("sparkify-crash-pg")).start()
    yield server
    server.close()


def assert_converges(data, url, clean) -> None:
    """A rerun ends as the clean run did; songplay_id: unique, and kept by a further rerun."""
    run(data, url)
    assert every_table(url, WITHOUT_ID) == clean
    ids = every_table(url)["songplay"]
    assert len({row[0] for row in ids}) == len(ids) == len(clean["songplay"])
    assert run(data, url).staged == {}  # nothing new: the ledger holds every object
    assert every_table(url)["songplay"] == ids


def assert_nothing_committed(url) -> None:
    """The star tables and the ledger are as before the run: empty (a fresh warehouse)."""
    assert counts(url, COMMITTED_BY_THE_TRANSFORM) == dict.fromkeys(COMMITTED_BY_THE_TRANSFORM, 0)


@pytest.mark.parametrize(("moment", "staging_committed"), [
    (COPY_IN_PROGRESS, False), (STAGING_GATE_QUERY, True), (SONGPLAY_INSERT, True),
], ids=["during staging", "during the staging gate", "during the transform"])
def test_warehouse_killed_then_rerun_converges(data, clean, killable, moment, staging_committed):
    url = create_database(killable.url(), "crash")
    elt_run = BackgroundRun.start(run, data=data, url=url)
    wait_for(url, moment, elt_run.done.is_set)
    killable.kill()  # immediate shutdown: every session dropped, no checkpoint
    elt_run.wait()
    assert isinstance(elt_run.error, SparkifyError), elt_run.error
    assert "\n" not in str(elt_run.error)

    killable.restart()  # crash recovery
    assert_nothing_committed(url)
    staged = counts(url, ["staging_events"])["staging_events"]
    assert staged == (len(clean["staging_events"]) if staging_committed else 0)
    assert_converges(data, url, clean)


def test_s3_emulator_killed_mid_load_then_rerun_converges(data, clean, warehouse_url):
    """The run's own emulator (a child process of this one) is killed while the events stream
    into COPY. A lost S3 connection is transient: the load is tried again, twice, and fails;
    the rerun starts and seeds a new emulator, as any run with --data does."""
    import psutil

    def emulators() -> set[int]:
        found = set()
        for child in psutil.Process().children(recursive=True):
            try:
                if "sparkify.local.s3_server" in child.cmdline():
                    found.add(child.pid)
            except psutil.Error:  # a parse worker that has just ended
                pass
        return found

    before = emulators()
    elt_run = BackgroundRun.start(run, data=data, url=warehouse_url, return_state=True)
    wait_for(warehouse_url, COPY_IN_PROGRESS, elt_run.done.is_set)
    started = emulators() - before
    assert len(started) == 1, started
    (emulator,) = started
    psutil.Process(emulator).kill()
    elt_run.wait()
    state = elt_run.result
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, SourceError) and "s3://sparkify-local/" in str(error), error
    assert task_run_counts(state)["stage_events"] == 3, task_run_counts(state)

    assert_nothing_committed(warehouse_url)
    assert_converges(data, warehouse_url, clean)

