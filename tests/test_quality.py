"""The Great Expectations quality gates on a real PostgreSQL.

Hand-made rows that satisfy the contract pass every suite; each test then breaks one rule and
expects the right expectation, on the right table, to fail. One database and one GX context
serve the whole module (the tables are recreated before each test), so it stays fast.
Uses the session fixtures `postgres_server_url` and `prefect_harness` of tests/conftest.py.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from sparkify.config import load_settings
from sparkify.errors import ConfigError, QualityGateError, WarehouseError
from sparkify.quality.suites import CHECKPOINTS, EXPECTATIONS_DIR, CheckpointFile, SuiteFile
from sparkify.quality.gate import QualityGate
from sparkify.quality.report import QualityReport
from sparkify.quality.targets import QualityTarget, postgres_target
from sparkify.aws.deployments import deployment_of
from sparkify.runtime import open_runtime
from sparkify.model import STAR_TABLES
from sparkify.warehouse.postgres import PostgresWarehouse as Warehouse
from sparkify.warehouse.redshift import RedshiftWarehouse

REPO = Path(__file__).resolve().parents[1]
REAL_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "udacity-sample"
STAGING_TABLES = ("staging_events", "staging_songs")
PRIMARY_KEYS = {"songplay": "songplay_id", "users": "user_id", "song": "song_id",
                "artist": "artist_id", "time": "start_time"}
TS = 1541105830796  # 2018-11-01 20:57:10.796 UTC


# -- fixtures ---------------------------------------------------------------------------------


def _execute(url: str, *statements: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def _scalar(url: str, sql: str):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def new_database(module_databases):
    """A factory of fresh databases on the test server, all dropped at the end."""
    return lambda name: module_databases.create(f"quality_{name}_{os.getpid()}")


@pytest.fixture(scope="module")
def quality_url(new_database) -> str:
    return new_database("gate")


@pytest.fixture(scope="module")
def gate(quality_url, tmp_path_factory):
    """One GX context for the module; it sees whatever the tables hold when a checkpoint runs."""
    with QualityGate(postgres_target(quality_url),
                     data_docs_dir=tmp_path_factory.mktemp("data_docs")) as shared:
        yield shared


@pytest.fixture
def clean(quality_url) -> str:
    """Tables recreated (constraints included) and filled with rows that satisfy the contract."""
    _execute(quality_url, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
    Warehouse(quality_url).create_tables()
    _execute(quality_url, *CLEAN_ROWS)
    return quality_url


def _at(ts: int) -> str:
    """The SQL of an epoch-millisecond time as a timestamp."""
    return f"TIMESTAMP 'epoch' + {ts} / 1000.0 * INTERVAL '1 second'"


# Two users (one only browses), three plays (one matched to a song, one twice in the log),
# a logged-out visitor, two songs of two artists.
CLEAN_ROWS = (
    f"""INSERT INTO staging_events (artist, auth, first_name, gender, item_in_session, last_name,
            length, level, location, method, page, registration, session_id, song, status, ts,
            user_agent, user_id)
        VALUES
        ('Elena', 'Logged In', 'Ann', 'F', 0, 'Lee', 241.2, 'free', 'Austin, TX', 'PUT',
         'NextSong', 1540919166796, 10, 'Setanta matins', 200, {TS}, 'Mozilla/5.0', '1'),
        ('Nobody', 'Logged In', 'Ann', 'F', 1, 'Lee', 180.0, 'paid', 'Austin, TX', 'PUT',
         'NextSong', 1540919166796, 10, 'Unknown song', 200, {TS + 200000}, 'Mozilla/5.0', '1'),
        ('Nobody', 'Logged In', 'Ann', 'F', 1, 'Lee', 180.0, 'paid', 'Austin, TX', 'PUT',
         'NextSong', 1540919166796, 10, 'Unknown song', 200, {TS + 200000}, 'Mozilla/5.0', '1'),
        (NULL, 'Logged In', 'Bob', 'M', 0, 'Kim', NULL, 'free', 'Eugene, OR', 'GET',
         'Home', 1540919166796, 11, NULL, 200, {TS + 5000}, 'Mozilla/5.0', '2'),
        (NULL, 'Logged Out', NULL, NULL, 0, NULL, NULL, 'free', NULL, 'GET',
         'Home', NULL, 12, NULL, 200, {TS + 9000}, NULL, '')""",
    """INSERT INTO staging_songs (num_songs, artist_id, artist_latitude, artist_longitude,
            artist_location, artist_name, song_id, title, duration, year)
        VALUES
        (1, 'AR1', 41.9, 12.5, 'Rome', 'Elena', 'SO1', 'Setanta matins', 269.6, 0),
        (1, 'AR2', NULL, NULL, '', 'Other', 'SO2', 'Another song', 120.5, 1999)""",
    "INSERT INTO users VALUES ('1', 'Ann', 'Lee', 'F', 'paid'), ('2', 'Bob', 'Kim', 'M', 'free')",
    """INSERT INTO artist VALUES ('AR1', 'Elena', 'Rome', 41.9, 12.5),
                                 ('AR2', 'Other', NULL, NULL, NULL)""",
    """INSERT INTO song VALUES ('SO1', 'Setanta matins', 'AR1', NULL, 269.6),
                               ('SO2', 'Another song', 'AR2', 1999, 120.5)""",
    f"""INSERT INTO songplay (songplay_id, start_time, user_id, level, song_id, artist_id,
            session_id, item_in_session, location, user_agent)
        VALUES
        (1, TIMESTAMP 'epoch' + {TS} / 1000.0 * INTERVAL '1 second', '1', 'free', 'SO1', 'AR1',
         10, 0, 'Austin, TX', 'Mozilla/5.0'),
        (2, TIMESTAMP 'epoch' + {TS + 200000} / 1000.0 * INTERVAL '1 second', '1', 'paid',
         NULL, NULL, 10, 1, 'Austin, TX', 'Mozilla/5.0')""",
    """INSERT INTO time
        SELECT DISTINCT start_time, EXTRACT(HOUR FROM start_time), EXTRACT(DAY FROM start_time),
               EXTRACT(WEEK FROM start_time), EXTRACT(MONTH FROM start_time),
               EXTRACT(YEAR FROM start_time), EXTRACT(DOW FROM start_time)
        FROM songplay""",
    # user 1 upgrades at their second play; user 2 stays free
    f"""INSERT INTO user_level_history (user_id, level, valid_from, valid_to)
        VALUES
        ('1', 'free', {_at(TS)}, {_at(TS + 200000)}),
        ('1', 'paid', {_at(TS + 200000)}, NULL),
        ('2', 'free', {_at(TS + 5000)}, NULL)""",
)


def failed(report: QualityReport) -> set[str]:
    return {outcome.label for outcome in report.failures}


# -- the suites pass on clean data, and each broken rule is caught -----------------------------


def test_every_suite_passes_on_clean_data(gate, clean):
    for checkpoint in CHECKPOINTS:
        report = gate.run(checkpoint)
        assert report.success, report.failure_message()
        assert not report.warnings, report.summary()
    assert {o.table for o in gate.run("staging").outcomes} == set(STAGING_TABLES)
    assert {o.table for o in gate.run("warehouse").outcomes} == set(STAR_TABLES)


HOUR_24 = "UPDATE time SET hour = 24 WHERE start_time = (SELECT MIN(start_time) FROM time)"
BROKEN_RULES = [
    pytest.param(
        "warehouse",
        ["ALTER TABLE users DROP CONSTRAINT users_pkey",  # PostgreSQL would refuse the copy
         "INSERT INTO users VALUES ('2', 'Bob', 'Kim', 'M', 'paid')"],
        "users: user_id is unique", id="duplicate-users-row"),
    pytest.param(
        "warehouse",
        ["""INSERT INTO songplay (songplay_id, start_time, user_id, level, session_id,
                 item_in_session)
             SELECT 3, start_time, '404', 'free', 99, 0 FROM time LIMIT 1"""],
        "songplay: every user_id is in users", id="orphan-songplay"),
    pytest.param(
        "warehouse", ["UPDATE songplay SET song_id = 'SO404' WHERE songplay_id = 1"],
        "songplay: every non-null song_id is in song", id="songplay-song-not-in-song"),
    pytest.param(
        "warehouse", ["UPDATE songplay SET artist_id = 'AR404' WHERE songplay_id = 1"],
        "songplay: every non-null artist_id is in artist", id="songplay-artist-not-in-artist"),
    pytest.param(
        "staging",
        ["""INSERT INTO staging_songs (artist_id, artist_name, song_id, title, duration)
            VALUES ('AR1', 'Elena', NULL, 'No id', 100.0)"""],
        "staging_songs: song_id is never null", id="null-song-id-in-staging"),
    pytest.param(
        "staging", ["UPDATE staging_events SET level = 'gold' WHERE user_id = '2'"],
        "staging_events: level is free or paid", id="staging-level-gold"),
    pytest.param(
        "warehouse", ["UPDATE users SET level = 'gold' WHERE user_id = '2'"],
        "users: level is free or paid", id="users-level-gold"),
    pytest.param(
        "warehouse", [HOUR_24],
        "time: hour is between 0 and 23", id="hour-24"),
    pytest.param(
        "warehouse", ["DELETE FROM time WHERE start_time = (SELECT MIN(start_time) FROM time)"],
        "songplay: every start_time is in time", id="start-time-missing-from-time"),
    pytest.param(
        "warehouse", ["DELETE FROM songplay WHERE songplay_id = 2",
                      "DELETE FROM time WHERE start_time NOT IN (SELECT start_time FROM songplay)"],
        "songplay: every staged NextSong event with a user_id is a songplay",
        id="staged-play-missing"),
    pytest.param(
        "warehouse", ["DROP INDEX songplay_play_key",
                      """INSERT INTO songplay (songplay_id, start_time, user_id, level, session_id,
                             item_in_session)
                         SELECT 99, start_time, user_id, level, session_id, item_in_session
                         FROM songplay WHERE songplay_id = 1"""],
        "songplay: a play (user_id, session_id, item_in_session) is one row", id="play-twice"),
    pytest.param(
        "warehouse", ["DELETE FROM users WHERE user_id = '2'"],
        "users: every distinct staged user_id has a users row", id="staged-user-missing"),
    pytest.param(
        "staging", ["UPDATE staging_events SET ts = ts / 1000"],
        "staging_events: ts is a plausible epoch-millisecond time (2000 to 2100)",
        id="ts-in-seconds"),
    pytest.param(
        "staging", ["UPDATE staging_songs SET duration = 0 WHERE song_id = 'SO2'"],
        "staging_songs: duration is greater than 0", id="zero-duration"),
    pytest.param(
        "warehouse", [f"UPDATE user_level_history SET valid_to = {_at(TS + 300000)} "
                      "WHERE user_id = '1' AND level = 'free'"],
        "user_level_history: no two periods of a user overlap", id="overlapping-periods"),
    pytest.param(
        "warehouse", ["UPDATE user_level_history SET valid_to = valid_from + INTERVAL '1 day' "
                      "WHERE user_id = '2'"],
        "user_level_history: exactly one current period per user with a level",
        id="no-current-period"),
    pytest.param(
        "warehouse", [f"INSERT INTO user_level_history VALUES ('2', 'paid', {_at(TS + 9000)}, "
                      "NULL)"],
        "user_level_history: exactly one current period per user with a level",
        id="two-current-periods"),
    pytest.param(
        "warehouse", ["UPDATE users SET level = 'free' WHERE user_id = '1'"],
        "user_level_history: the current period's level equals users.level",
        id="current-level-differs-from-users"),
    pytest.param(
        "warehouse", [f"UPDATE user_level_history SET valid_to = {_at(TS + 100000)} "
                      "WHERE user_id = '1' AND level = 'free'"],
        "user_level_history: an ended period is followed by the next, from when it ends",
        id="gap-between-periods"),
    pytest.param(
        "warehouse", [f"UPDATE user_level_history SET valid_from = {_at(TS + 100)} "
                      "WHERE user_id = '1' AND level = 'free'"],
        "user_level_history: every staged user with a level has periods from their first "
        "staged event on", id="history-starts-late"),
    pytest.param(
        "warehouse", ["UPDATE user_level_history SET level = 'paid' "
                      "WHERE user_id = '1' AND level = 'free'"],
        "user_level_history: a period's level differs from the one before it",
        id="same-level-twice-in-a-row"),
]


@pytest.mark.parametrize("checkpoint, statements, expected", BROKEN_RULES)
def test_a_broken_rule_fails_its_expectation(gate, clean, checkpoint, statements, expected):
    _execute(clean, *statements)
    report = gate.run(checkpoint)
    assert not report.success
    assert expected in failed(report), report.failure_message()
    assert expected in report.failure_message()
    assert "\n" not in report.failure_message()


def test_only_the_broken_rule_fails(gate, clean):
    _execute(clean, HOUR_24)
    assert failed(gate.run("warehouse")) == {
        "time: hour is between 0 and 23",
        "time: hour, day, week, month, year and weekday agree with start_time",
    }
    assert gate.run("staging").success


def test_a_missing_column_is_reported_not_raised(gate, clean):
    _execute(clean, "ALTER TABLE staging_songs DROP COLUMN title")
    report = gate.run("staging")
    by_rule = {o.label: o for o in report.failures}
    assert by_rule["staging_songs: has a column for every song key"].observed == "missing: title"
    assert by_rule["staging_songs: title is never null"].observed.startswith("error: ")


def test_a_song_repeated_in_staging_is_a_warning_not_a_failure(gate, clean):
    """Staging holds one row per source record: a song in two files repeats its song_id."""
    _execute(clean, """INSERT INTO staging_songs (artist_id, artist_name, song_id, title, duration)
                       VALUES ('AR1', 'Elena', 'SO1', 'Setanta matins', 269.6)""")
    report = gate.run("staging")
    assert report.success
    assert [o.label for o in report.warnings] == [
        "staging_songs: song_id appears in one source record (a repeat is only reported)"]
    assert "warning: staging_songs: song_id" in report.summary()


def test_a_logged_out_play_is_a_warning_not_a_failure(gate, clean):
    """The contract's plays are NextSong events with a userId: one without is legal input."""
    _execute(clean, "UPDATE staging_events SET user_id = '' "
                    "WHERE page = 'NextSong' AND item_in_session = 0")
    report = gate.run("staging")
    assert report.success
    assert [o.label for o in report.warnings] == [
        "staging_events: every NextSong event has a user_id"]


def test_report_rows_and_observed_values(gate, clean):
    _execute(clean, "UPDATE staging_events SET level = 'gold' WHERE user_id = '2'")
    report = gate.run("staging")
    rows = report.artifact_rows()
    assert len(rows) == len(report.outcomes)
    assert set(rows[0]) >= {"table", "expectation", "result", "observed"}
    gold = next(r for r in rows if r["expectation"] == "level is free or paid")
    assert gold == {**gold, "table": "staging_events", "result": "fail",
                    "observed": "1 unexpected of 5 values, e.g. 'gold'"}
    assert report.summary().startswith("quality checkpoint 'staging' FAILED (1 failed): ")
    assert gate.publish_docs() == report.data_docs and Path(report.data_docs).is_file()


def test_a_custom_sql_rule_counts_its_rows_with_one_query(gate, clean):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    _execute(clean, "UPDATE staging_events SET user_id = NULL WHERE user_id = '1'")
    event.listen(Engine, "before_cursor_execute", record)
    try:
        report = gate.run("staging")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    rule = "staging_events: every NextSong event has a user_id"
    outcome = next(o for o in report.outcomes if o.label == rule)
    assert outcome.expectation == "expect_no_unexpected_rows"
    assert outcome.observed == "3 unexpected rows"
    # once for the verdict, once more for the details of a checkpoint that did not pass
    assert sum("page = 'NextSong'" in s for s in statements) == 2


def test_a_passing_checkpoint_runs_once_and_samples_no_values(gate, clean):
    """The verdict alone: one query per rule, and none of GX's samples of unexpected values."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        report = gate.run("staging")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert report.success and report.outcomes
    assert sum("page = 'NextSong'" in s for s in statements) == 1
    assert not [s for s in statements if "AS unexpected_values" in s]


def test_a_missing_table_is_one_clear_error(new_database, tmp_path):
    empty = new_database("empty")
    with QualityGate(postgres_target(empty), data_docs_dir=None) as fresh, \
            pytest.raises(WarehouseError, match=r"table public\.staging_events does not exist"):
        fresh.run("staging")


# -- the Prefect tasks and the validate command -------------------------------------------------


def test_tasks_fail_or_warn_and_publish_an_artifact(prefect_harness, clean):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from tasks.quality import check_staging, check_warehouse

    _execute(clean,
             "INSERT INTO staging_songs (song_id, artist_id, title) VALUES (NULL, 'AR1', 'T')")

    @flow
    def gate_flow(mode: str) -> QualityReport:
        with open_runtime("validate", warehouse_url=SecretStr(clean)) as runtime:
            check_warehouse(runtime, mode)
            return check_staging(runtime, mode)

    with pytest.raises(QualityGateError, match="staging_songs: song_id is never null"):
        gate_flow("fail")
    report = gate_flow("warn")
    assert not report.success and report.checkpoint == "staging"

    with get_client(sync_client=True) as client:
        # the harness is shared by the whole session: the newest one is this test's
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["sparkify-quality-staging"])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    assert artifacts and artifacts[0].type == "table"
    data = artifacts[0].data
    rows = data if isinstance(data, list) else json.loads(data)
    null_song_id = next(r for r in rows if r["expectation"] == "song_id is never null")
    assert (null_song_id["table"], null_song_id["result"]) == ("staging_songs", "fail")


def test_validate_command_exits_1_naming_table_and_rule(prefect_harness, clean):
    from prefect.settings import PREFECT_API_URL

    _execute(clean, "ALTER TABLE users DROP CONSTRAINT users_pkey",
             "INSERT INTO users VALUES ('1', 'Ann', 'Lee', 'F', 'free')")
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # no server of its own
    done = subprocess.run([sys.executable, str(REPO / "flows" / "validate.py"),
                           "--warehouse-url", clean], env=env,
                          check=False, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 1, done.stderr
    assert "FAILED warehouse: users: user_id is unique" in done.stdout
    assert "quality checkpoint 'staging' passed" in done.stdout
    assert "Traceback" not in done.stderr
    assert "Calculating Metrics" not in done.stderr  # GX progress bars are off


# -- the real sample, end to end ----------------------------------------------------------------


@pytest.mark.skipif(not REAL_SAMPLE.is_dir(),
                    reason=f"the real sample is not at {REAL_SAMPLE} (no ../shared here)")
def test_suites_pass_on_the_real_sample(prefect_harness, new_database):
    from flows.main import elt

    url = new_database("sample")
    elt(data=str(REAL_SAMPLE), warehouse_url=SecretStr(url))
    with QualityGate(postgres_target(url), data_docs_dir=None) as sample_gate:
        for checkpoint in CHECKPOINTS:
            report = sample_gate.run(checkpoint)
            assert report.success, report.failure_message()


def test_a_failed_staging_gate_fails_the_flow_and_rolls_the_transform_back(
        prefect_harness, new_database, tmp_path):
    """The staging gate runs beside the transform, which must not commit when the gate fails."""
    import flows.main

    if "check_staging" not in inspect.getsource(flows.main.elt):
        pytest.skip("flows/main.py does not run check_staging yet")
    url = new_database("stop")
    # Staging refuses a record that breaks a single-record rule, so the gate only meets one
    # that changed after the client checked it (as a server-side COPY can load it): here a
    # trigger turns the second level into 'gold' as it is inserted.
    Warehouse(url).create_tables()
    _execute(url, """CREATE FUNCTION gild() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF NEW.item_in_session = 1 THEN NEW.level := 'gold'; END IF;
                     RETURN NEW; END $$""",
             "CREATE TRIGGER gild BEFORE INSERT ON staging_events FOR EACH ROW "
             "EXECUTE FUNCTION gild()")
    events = [{"artist": "Elena", "auth": "Logged In", "firstName": "Ann", "gender": "F",
               "itemInSession": n, "lastName": "Lee", "length": 200.0, "level": level,
               "location": "Austin, TX", "method": "PUT", "page": "NextSong",
               "registration": 1540919166796.0, "sessionId": 1, "song": "A song", "status": 200,
               "ts": TS + n, "userAgent": "Mozilla/5.0", "userId": "1"}
              for n, level in enumerate(["free", "paid"])]
    (tmp_path / "log_data").mkdir()
    (tmp_path / "log_data" / "events.json").write_text("\n".join(map(json.dumps, events)))
    (tmp_path / "song_data").mkdir()
    (tmp_path / "song_data" / "song.json").write_text(json.dumps(
        {"num_songs": 1, "artist_id": "AR1", "artist_latitude": None, "artist_longitude": None,
         "artist_location": "", "artist_name": "Elena", "song_id": "SO1", "title": "A song",
         "duration": 200.0, "year": 2000}))
    with pytest.raises(QualityGateError, match="staging_events: level is free or paid"):
        flows.main.elt(data=str(tmp_path), warehouse_url=SecretStr(url), quality="fail")
    assert _scalar(url, "SELECT COUNT(*) FROM staging_events") == 2
    for table in (*STAR_TABLES, "load_ledger"):
        assert _scalar(url, f"SELECT COUNT(*) FROM {table}") == 0, table


def _one_play(root: Path) -> Path:
    """A day of two plays by one user, and the song they play."""
    events = [{"artist": "Elena", "auth": "Logged In", "firstName": "Ann", "gender": "F",
               "itemInSession": n, "lastName": "Lee", "length": 200.0, "level": "free",
               "location": "Austin, TX", "method": "PUT", "page": "NextSong",
               "registration": 1540919166796.0, "sessionId": 1, "song": "A song", "status": 200,
               "ts": TS + n, "userAgent": "Mozilla/5.0", "userId": "1"} for n in range(2)]
    (root / "log_data").mkdir()
    (root / "log_data" / "events.json").write_text("\n".join(map(json.dumps, events)))
    (root / "song_data").mkdir()
    (root / "song_data" / "song.json").write_text(json.dumps(
        {"num_songs": 1, "artist_id": "AR1", "artist_latitude": None, "artist_longitude": None,
         "artist_location": "", "artist_name": "Elena", "song_id": "SO1", "title": "A song",
         "duration": 200.0, "year": 2000}))
    return root


def test_a_failed_warehouse_gate_stays_failed_until_the_data_is_fixed(
        prefect_harness, new_database, tmp_path):
    """The warehouse checkpoint runs after the transform has committed. A run over the same
    data after it failed must not find "nothing new" and succeed with the failing rows there:
    the failed load leaves the ledger, so the next run loads it again and checks again."""
    import flows.main

    url, data = new_database("stays_failed"), str(_one_play(tmp_path))
    # Staging and its gate see a good level; a trigger spoils the user's row in the star.
    Warehouse(url).create_tables()
    _execute(url, """CREATE FUNCTION gild() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN NEW.level := 'gold'; RETURN NEW; END $$""",
             "CREATE TRIGGER gild BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION gild()")
    for attempt in ("the run that loads it", "a later run over the same data"):
        with pytest.raises(QualityGateError, match="warehouse' failed: users: level is free or paid"):
            flows.main.elt(data=data, warehouse_url=SecretStr(url))
        assert _scalar(url, "SELECT COUNT(*) FROM load_ledger") == 0, attempt
        assert _scalar(url, "SELECT level FROM users") == "gold", attempt

    _execute(url, "DROP TRIGGER gild ON users")  # the fault is fixed: the next run reloads
    fixed = flows.main.elt(data=data, warehouse_url=SecretStr(url))
    assert fixed.staged and _scalar(url, "SELECT level FROM users") == "free"
    again = flows.main.elt(data=data, warehouse_url=SecretStr(url))
    assert again.staged == {}  # nothing new, and nothing left unchecked
    assert _scalar(url, "SELECT COUNT(*) FROM load_ledger") == 3  # two objects, the JSONPaths


# -- the suite files --------------------------------------------------------------------------


def test_every_table_has_a_suite_and_every_key_is_checked():
    suites = {path.stem: SuiteFile.load(path) for path in EXPECTATIONS_DIR.glob("*.yml")}
    assert set(suites) == set(STAGING_TABLES) | set(STAR_TABLES)
    checkpoints = {name: CheckpointFile.load(EXPECTATIONS_DIR / "checkpoints" / f"{name}.yml")
                   for name in CHECKPOINTS}
    assert set(checkpoints["staging"].suites) == set(STAGING_TABLES)
    assert set(checkpoints["warehouse"].suites) == set(STAR_TABLES)
    for table, key in PRIMARY_KEYS.items():
        kinds = {(e["type"], e.get("kwargs", {}).get("column")) for e in suites[table].expectations}
        assert ("expect_column_values_to_be_unique", key) in kinds, table
        assert ("expect_column_values_to_not_be_null", key) in kinds, table


def test_suites_are_written_not_profiled():
    """No exact row counts, means or other statistics of one data set."""
    profiled = ("row_count", "mean", "median", "stdev", "sum", "quantile", "most_common",
                "distinct_values_to_equal", "unique_value_count", "kl_divergence")
    for path in EXPECTATIONS_DIR.glob("*.yml"):
        for entry in SuiteFile.load(path).expectations:
            assert not any(word in entry["type"] for word in profiled), (path.name, entry["type"])
            assert all(isinstance(entry[k], str) for k in ("type", "description"))


def test_a_typo_in_a_suite_file_is_an_error_not_a_skipped_expectation(tmp_path):
    (tmp_path / "users.yml").write_text(
        "table: users\nexpectations:\n"
        "  - type: expect_column_values_to_be_uniqe\n    description: typo\n"
        "    kwargs: {column: user_id}\n")
    with pytest.raises(ConfigError, match=r"users\.yml, expectation 1"):
        SuiteFile.load(tmp_path / "users.yml").build("public")
    (tmp_path / "users.yml").write_text("table: users\nexpectations:\n  - type: x\n")
    with pytest.raises(ConfigError, match="needs a 'description'"):
        SuiteFile.load(tmp_path / "users.yml")


# -- connection strings: the socket trap, and Redshift without a cluster ------------------------


def test_a_socket_url_is_given_a_host_that_gx_accepts():
    from great_expectations.datasource.fluent import PostgresDatasource

    socket_url = "postgresql://postgres@/sparkify?host=/work/main/.sparkify/pgdata"
    with pytest.raises(ValueError, match="host"):  # pydantic's ValidationError
        PostgresDatasource(name="raw", connection_string=socket_url)
    target = postgres_target(socket_url)
    parsed = make_url(target.connection_string.get_secret_value())
    assert (parsed.drivername, parsed.host, parsed.database) == (
        "postgresql+psycopg2", "localhost", "sparkify")
    assert parsed.query["host"] == "/work/main/.sparkify/pgdata"  # libpq connects through it
    PostgresDatasource(name="fixed", connection_string=target.connection_string.get_secret_value())


def _redshift_settings(password: str, **keys: str):
    env = {"SPARKIFY_DWH_HOST": "sparkify.abc123.us-west-2.redshift.amazonaws.com",
           "SPARKIFY_DWH_DB_PASSWORD": password, "SPARKIFY_DWH_AUTH": "password",
           **{f"SPARKIFY_DWH_{k.upper()}": v for k, v in keys.items()}}
    return load_settings(None, env=env)


def _no_aws(service: str):
    raise AssertionError(f"no {service} look-up expected: [DWH] HOST is set")


def _redshift_quality_target(settings) -> QualityTarget:
    target = RedshiftWarehouse.target_from_settings(settings, deployment_of(settings), _no_aws,
                                                    dry_run=False, loads=False)
    return RedshiftWarehouse.from_target(target).quality_target()


def test_redshift_target_from_settings_keeps_the_password_out_of_sight():
    from great_expectations.datasource.fluent import RedshiftDatasource
    from great_expectations.execution_engine.redshift_execution_engine import (
        RedshiftExecutionEngine,
    )

    password = "s3cr@t/pa:ss word"
    target = _redshift_quality_target(_redshift_settings(password, schema="analytics",
                                                         port="5440"))
    assert target.kind == "redshift" and target.schema == "analytics"
    url = make_url(target.connection_string.get_secret_value())
    assert (url.drivername, url.host, url.port, url.database, url.username) == (
        "redshift+psycopg2", "sparkify.abc123.us-west-2.redshift.amazonaws.com", 5440,
        "sparkify", "sparkify")
    assert url.password == password  # escaped in the URL, intact once parsed
    assert url.query["sslmode"] == "require"
    for shown in (target.describe(), repr(target), str(target)):
        assert password not in shown and "s3cr" not in shown
    datasource = RedshiftDatasource(name="rs",
                                    connection_string=target.connection_string.get_secret_value())
    assert datasource.execution_engine_type is RedshiftExecutionEngine
    sql = [e.unexpected_rows_query for e in SuiteFile.load(EXPECTATIONS_DIR / "songplay.yml")
           .build(target.schema) if hasattr(e, "unexpected_rows_query")]
    assert sql and all("analytics.users" in q or "{schema}" not in q for q in sql)
    assert any("analytics.users" in q for q in sql)


def test_a_redshift_run_needs_a_password():
    with pytest.raises(ConfigError, match="password"):
        _redshift_quality_target(_redshift_settings(""))


def test_the_redshift_data_source_runs_the_same_suites(clean, tmp_path):
    """GX's Redshift data source and execution engine, on PostgreSQL (which speaks its wire
    protocol): only the connection changes, the suites are the same."""
    pytest.importorskip("sqlalchemy_redshift", reason="the [redshift] extra is not installed")
    url = make_url(postgres_target(clean).connection_string.get_secret_value())
    target = QualityTarget("redshift", SecretStr(
        url.set(drivername="redshift+psycopg2").render_as_string(hide_password=False)))
    with QualityGate(target, data_docs_dir=None) as redshift_gate:
        assert redshift_gate.run("staging").success
        _execute(clean, "UPDATE time SET hour = 24")
        assert "time: hour is between 0 and 23" in failed(redshift_gate.run("warehouse"))


def test_validate_on_redshift_resolves_its_dwh_cfg_once(tmp_path, monkeypatch):
    config = tmp_path / "dwh.cfg"
    config.write_text("[DWH]\nHOST = cluster.example.com\nDB_NAME = dev\nAUTH = password\n"
                      "DB_PASSWORD = pw-123456\n")
    monkeypatch.delenv("SPARKIFY_DB_PASSWORD", raising=False)
    with open_runtime("validate", config=str(config)) as runtime:
        target = runtime.warehouse().quality_target()
    url = make_url(target.connection_string.get_secret_value())
    assert (target.kind, url.host, url.port, url.database) == ("redshift", "cluster.example.com",
                                                                 5439, "dev")


def test_an_empty_host_is_looked_up_from_the_cluster(tmp_path, monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config = tmp_path / "dwh.cfg"
    config.write_text("[DWH]\nCLUSTER_IDENTIFIER = sparkify-test\nAUTH = password\n"
                      "DB_PASSWORD = pw-123456\n")
    with mock_aws():
        import boto3

        boto3.client("redshift", region_name="us-west-2").create_cluster(
            ClusterIdentifier="sparkify-test", NodeType="ra3.large", MasterUsername="sparkify",
            MasterUserPassword="Pw-1234567", ClusterType="single-node")
        with open_runtime("validate", config=str(config)) as runtime:
            target = runtime.warehouse().quality_target()
    url = make_url(target.connection_string.get_secret_value())
    assert url.host.startswith("sparkify-test.") and url.port == 5439


def test_great_expectations_is_imported_with_scipy_stats_deferred_to_its_first_use():
    code = ("import sys; from sparkify.quality.gate import import_great_expectations; "
            "gx = import_great_expectations(); print(hasattr(gx, 'Checkpoint'), "
            "'scipy.stats._stats_py' in sys.modules); from scipy import stats; "
            "print(stats.norm.cdf(0.0), 'scipy.stats._stats_py' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "False", "0.5", "True"]
