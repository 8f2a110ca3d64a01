"""Retries are for I/O only: bad data runs its task once; a dropped connection is run again."""

from __future__ import annotations

import httpx
import psycopg2
import pytest
from botocore.exceptions import ConnectionClosedError, ResponseStreamingError
from conftest import event, query, song, write_dataset
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import (
    ConfigError, MalformedRecordError, QualityGateError, SourceError, WarehouseError, is_transient,
)
from sparkify.warehouse.postgres import PostgresWarehouse

SONGS = {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]}


def _task_run_counts(flow_state) -> dict[str, int]:
    """How many times each task of the flow run ran (a retry runs the same task run again)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_state.state_details.flow_run_id])))
    return {run.name.rsplit("-", 1)[0]: run.run_count for run in runs}


def test_a_malformed_record_runs_its_task_exactly_once(prefect_harness, tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(), b'{"userId": "3", "page": NextSong}']}, SONGS)

    state = elt(data=str(tmp_path), warehouse_url=SecretStr(warehouse_url), return_state=True)

    assert state.is_failed()
    with pytest.raises(MalformedRecordError, match="line 2"):
        state.result()
    assert _task_run_counts(state)["stage_sources"] == 1


def test_a_dropped_connection_is_retried_and_the_run_completes(
        prefect_harness, tmp_path, warehouse_url):
    """The first COPY into staging_events loses its connection: the server ends the session
    mid-load (a row trigger terminates its own backend once, counted by a sequence, which no
    rollback undoes). The task backs off, runs again, and the load completes."""
    PostgresWarehouse(warehouse_url).create_tables()
    conn = psycopg2.connect(warehouse_url)
    with conn, conn.cursor() as cur:
        cur.execute("""
            CREATE SEQUENCE dropped_once;
            CREATE FUNCTION drop_the_first_copy() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('dropped_once') = 1 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER drop_the_first_copy BEFORE INSERT ON staging_events
                FOR EACH ROW EXECUTE FUNCTION drop_the_first_copy();""")
    conn.close()
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1"), event(userId="2", itemInSession=1)]},
                  SONGS)

    state = elt(data=str(tmp_path), warehouse_url=SecretStr(warehouse_url), return_state=True)

    assert state.is_completed(), state.message
    assert _task_run_counts(state)["stage_sources"] == 2
    assert query(warehouse_url, "SELECT COUNT(*) FROM staging_events") == [(2,)]
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(2,)]


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as caught:
        return caught


@pytest.mark.parametrize("error", [
    MalformedRecordError("bad line"), QualityGateError("gate"), ConfigError("setting"),
    _chained(WarehouseError("star/time.sql failed"), psycopg2.errors.NumericValueOutOfRange()),
    _chained(WarehouseError("copy failed"), psycopg2.errors.InvalidTextRepresentation()),
    _chained(MalformedRecordError("bad"), ConnectionResetError()),  # bad data wins
    SourceError("bucket not found: s3://nowhere"),
    # Prefect's API gone (its client retried already): the task would redo its work in vain
    _chained(httpx.ConnectError("[Errno 111] Connection refused"), ConnectionRefusedError()),
])
def test_bad_data_settings_and_failed_gates_are_never_retried(error):
    assert not is_transient(error)


@pytest.mark.parametrize("error", [
    _chained(WarehouseError("lost"), psycopg2.OperationalError("server closed the connection")),
    _chained(WarehouseError("ended"), psycopg2.errors.AdminShutdown()),
    _chained(SourceError("cannot read s3://b/k"), ConnectionResetError()),
    _chained(SourceError("cannot read s3://b/k"),  # the endpoint died mid-body
             ResponseStreamingError(error="Connection broken: IncompleteRead(0 bytes read)")),
    _chained(SourceError("cannot read s3://b/k"), ConnectionClosedError(endpoint_url="http://s3")),
    _chained(WarehouseError("aborted"), psycopg2.errors.SerializationFailure()),
])
def test_connection_level_failures_are_retried(error):
    assert is_transient(error)


def test_redshift_serializable_isolation_abort_is_retried():
    """Redshift reports its error 1023 as SQLSTATE XX000, told apart by its message."""
    class RedshiftInternalError(psycopg2.errors.InternalError_):
        pgcode = "XX000"
        pgerror = "ERROR:  1023\nDETAIL:  Serializable isolation violation on table - 12345"

    assert is_transient(_chained(WarehouseError("abort"), RedshiftInternalError()))

    class OtherInternalError(psycopg2.errors.InternalError_):
        pgcode = "XX000"
        pgerror = "ERROR:  Assert"

    assert not is_transient(_chained(WarehouseError("assert"), OtherInternalError()))
