"""Bad input and failed loads: clear one-line errors, and nothing lost or half-written."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg2
import pytest
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import MalformedRecordError, WarehouseError
from tests.conftest import PROJECT_ROOT, event, query, song, write_dataset
from tests.loading import star_snapshot

pytestmark = pytest.mark.usefixtures("prefect_harness")

SONGS = {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]}


def run(data_dir, url, **options):
    return elt(data=str(data_dir), warehouse_url=SecretStr(url), **options)


@pytest.fixture
def loaded(tmp_path, warehouse_url):
    """A warehouse already holding one good load; returns (data dir, url, star snapshot)."""
    events = [event(userId="1", song="A", artist="X", level="free"),
              event(userId="2", itemInSession=1, song="B")]
    write_dataset(tmp_path, {"2018-11-01": events}, SONGS)
    run(tmp_path, warehouse_url)
    return tmp_path, warehouse_url, star_snapshot(warehouse_url, also=("staging_events",))


def test_malformed_line_fails_naming_file_and_line_and_changes_nothing(loaded):
    data, url, before = loaded
    write_dataset(data, {"2018-11-02": [event(userId="1", level="paid", ts=1541200000000),
                                        b'{"userId": "3", "page": NextSong}']}, {})
    with pytest.raises(MalformedRecordError) as failure:
        run(data, url)
    message = str(failure.value)
    assert "s3://sparkify-local/log_data/2018/11/2018-11-02-events.json line 2" in message
    assert "\n" not in message
    assert star_snapshot(url, also=("staging_events",)) == before  # staging rolled back too


def test_max_errors_keeps_bad_lines_in_load_errors(tmp_path, warehouse_url):
    bad_line = b'[1, 2, 3]'
    events = [event(userId="1", song="A", artist="X"), b'{"truncated": ', bad_line,
              event(userId="2", itemInSession=1, song="A", artist="X", sessionId="abc")]
    write_dataset(tmp_path, {"2018-11-01": events}, SONGS)
    summary = run(tmp_path, warehouse_url, max_errors=3)
    assert summary.rows["staging_events"] == 1
    assert summary.malformed == 3
    kept = query(warehouse_url, "SELECT table_name, source_key, line_number, reason, raw_text "
                                "FROM load_errors ORDER BY line_number")
    key = "s3://sparkify-local/log_data/2018/11/2018-11-01-events.json"
    assert [(t, k, n) for t, k, n, _, _ in kept] == [
        ("staging_events", key, 2), ("staging_events", key, 3), ("staging_events", key, 4)]
    assert "not valid JSON" in kept[0][3]
    assert kept[1][3].startswith("not a JSON object") and kept[1][4] == "[1, 2, 3]"
    assert "key 'sessionId'" in kept[2][3] and "integer" in kept[2][3]


def test_error_budget_counts_both_tables(tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1"), b"not json"]},
                  {"TRAAAAA1": [song("SO1", "A", "AR1", "X")], "TRAAAAB1": [b"{oops"]})
    with pytest.raises(MalformedRecordError, match="2 malformed records"):
        run(tmp_path, warehouse_url, max_errors=1)
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(0,)]


def test_failed_transform_rolls_back_every_star_table(loaded):
    data, url, before = loaded
    # the warehouse refuses plays after Nov 1 (values at staging are fine, so the transform
    # itself fails); user 1 also upgrades, so users would change
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE songplay ADD CONSTRAINT no_plays_after_november_first "
                    "CHECK (start_time < '2018-11-02')")
    conn.close()
    write_dataset(data, {"2018-11-02": [event(userId="1", level="paid", ts=1541200000000),
                                        event(userId="1", itemInSession=5, ts=1541200001000)]},
                  {})
    with pytest.raises(WarehouseError, match="no_plays_after_november_first"):
        run(data, url)
    after = star_snapshot(url)
    assert after == {t: before[t] for t in after}
    assert query(url, "SELECT level FROM users WHERE user_id = '1'") == [("free",)]


# ---- the command line ---------------------------------------------------------------------

@pytest.fixture
def cli(prefect_harness):
    """Run flows/main.py as a user would, against the harness's Prefect API (no server start-up)."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}

    def invoke(*args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "flows/main.py", *args], cwd=PROJECT_ROOT,
                              env={**env, **(extra_env or {})}, capture_output=True, text=True,
                              timeout=300)

    return invoke


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


def test_cli_missing_data_dir(cli, tmp_path, warehouse_url):
    line = _one_line_error(cli("--data", str(tmp_path / "nope"), "--warehouse-url", warehouse_url))
    assert "--data directory not found" in line and "nope" in line


def test_cli_empty_source_prefix(cli, tmp_path, warehouse_url):
    write_dataset(tmp_path, {}, SONGS)
    (tmp_path / "log_data").mkdir()
    line = _one_line_error(cli("--data", str(tmp_path), "--warehouse-url", warehouse_url))
    assert "no .json objects under s3://sparkify-local/log_data/" in line


def test_cli_unreachable_warehouse(cli, tmp_path):
    write_dataset(tmp_path, {"2018-11-01": [event()]}, SONGS)
    line = _one_line_error(cli("--data", str(tmp_path), "--warehouse-url",
                               "postgresql://sparkify:hunter2@127.0.0.1:9/sparkify"))
    assert "cannot connect to postgresql://sparkify:****@127.0.0.1:9/sparkify" in line
    assert "hunter2" not in line


def test_cli_malformed_and_debug_traceback(cli, tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(), b"{bad"]}, SONGS)
    line = _one_line_error(cli("--data", str(tmp_path), "--warehouse-url", warehouse_url))
    assert "2018-11-01-events.json line 2" in line
    debug = cli("--data", str(tmp_path), "--warehouse-url", warehouse_url, "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_cli_source_without_jsonpaths(cli, tmp_path, warehouse_url):
    from sparkify.local.emulator import S3Emulator, emulator_session
    from sparkify.aws.s3 import S3ObjectStore

    write_dataset(tmp_path, {"2018-11-01": [event()]}, SONGS, jsonpaths=False)
    with S3Emulator() as emulator:
        store = S3ObjectStore("us-west-2", emulator.endpoint_url, emulator_session())
        store.upload_tree(tmp_path, "raw-bucket", "sparkify")
        aws = {"AWS_ENDPOINT_URL": emulator.endpoint_url, "AWS_ACCESS_KEY_ID": "emulator",
               "AWS_SECRET_ACCESS_KEY": "emulator", "AWS_DEFAULT_REGION": "us-west-2"}
        line = _one_line_error(cli("--source", "s3://raw-bucket/sparkify", "--warehouse-url",
                                   warehouse_url, extra_env=aws))
        assert "JSONPaths file not found: s3://raw-bucket/sparkify/log_json_path.json" in line
        missing = _one_line_error(cli("--source", "s3://no-such-bucket", "--warehouse-url",
                                      warehouse_url, extra_env=aws))
        assert "bucket not found: s3://no-such-bucket" in missing
