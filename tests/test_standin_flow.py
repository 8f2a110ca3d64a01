"""The whole ELT through the Redshift engine against the stand-in (slow): a generated data set
nobody has looked at loads to exactly the tables the local profile gives, a rerun changes
nothing, a malformed line is named with its file and line; all on a database SERIALIZABLE by
default, in C collation, through a login without CREATE on the database."""

from __future__ import annotations

import secrets

import pytest
from conftest import event, query, song, write_dataset
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import MalformedRecordError
from sparkify.local.generator import GeneratorSpec, generate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

STAR = {  # every column but songplay_id, whose values each engine numbers its own way
    "songplay": "start_time, user_id, level, song_id, artist_id, session_id, item_in_session, "
                "location, user_agent",
    "users": "*", "song": "*", "artist": "*", "time": "*", "user_level_history": "*",
    "staging_events": "*", "staging_songs": "*",
}


def tables(url: str) -> dict[str, list[tuple]]:
    return {table: sorted(query(url, f"SELECT {columns} FROM {table}"), key=repr)
            for table, columns in STAR.items()}


def standin_url(db) -> str:
    return db.login_url(db.issue_password(3600))


def test_the_stand_in_is_as_strict_as_redshift_where_postgresql_can_be(standin_db):
    url = standin_url(standin_db)

    assert query(url, "SHOW default_transaction_isolation") == [("serializable",)]
    assert query(url, "SELECT datcollate FROM pg_database WHERE datname = current_database()") \
        == [("C",)]
    assert query(url, "SELECT has_database_privilege(current_user, current_database(), 'CREATE'),"
                      " has_schema_privilege(current_user, 'public', 'CREATE')") == [(False, True)]


def test_an_unseen_data_set_loads_as_on_the_local_profile_and_a_rerun_changes_nothing(
        tmp_path, warehouse_url, standin_db):
    seed = secrets.randbelow(10**9)
    data = tmp_path / "data"
    generate(data, GeneratorSpec(songs=80, users=25, days=4, events_per_day=150, seed=seed))
    # Oddities both engines must read alike, in a session the generator never numbers (its
    # session 1 could be user 12's: its earlier copy of the play would win, with its own song).
    session = 10**9
    write_dataset(data, {"2018-11-30": [
        event(userId="12.0", sessionId=session, itemInSession=1, song="Trail ", artist="Blank"),
        event(userId="12", sessionId=session, itemInSession=2, ts=1543600000000),
        event(userId=" 8 ", sessionId=session, page="Home")]},
        {"TRZZZZZ1": [song("SOZZZ1", "Trail", "ARZZ1", "Blank ")]})
    url = standin_url(standin_db)

    elt(data=str(data), warehouse_url=SecretStr(warehouse_url))
    elt(data=str(data), warehouse_url=SecretStr(url), redshift_standin=True)
    loaded = tables(url)

    assert loaded == tables(warehouse_url), f"generator seed {seed}"
    assert query(url, "SELECT COUNT(*) FROM songplay WHERE song_id = 'SOZZZ1'") == [(1,)]
    before = query(url, "SELECT * FROM songplay ORDER BY songplay_id")
    elt(data=str(data), warehouse_url=SecretStr(url), redshift_standin=True)
    assert tables(url) == loaded
    assert query(url, "SELECT * FROM songplay ORDER BY songplay_id") == before


@pytest.fixture
def malformed(tmp_path):
    """A data set whose second event line cannot fill its column (sessionId 'abc')."""
    return write_dataset(tmp_path / "data", {"2018-11-01": [
        event(userId="1"), b'{"userId": "2", "page": "NextSong", "sessionId": "abc", '
                           b'"ts": 1541105830796, "level": "free"}', event(userId="3")]},
        {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})


def test_a_malformed_line_fails_the_run_naming_its_file_and_line(malformed, standin_db):
    url = standin_url(standin_db)

    with pytest.raises(MalformedRecordError) as raised:
        elt(data=str(malformed), warehouse_url=SecretStr(url), redshift_standin=True)

    assert str(raised.value) == (
        "malformed record in s3://sparkify-local/log_data/2018/11/2018-11-01-events.json line 2: "
        "Invalid digit, Value 'a', Pos 0, Type: Long (column session_id); any malformed record "
        "is fatal (--max-errors 0)")
    assert query(url, "SELECT COUNT(*) FROM songplay") == [(0,)]


def test_a_malformed_line_within_max_errors_is_kept_in_load_errors(malformed, standin_db):
    url = standin_url(standin_db)

    elt(data=str(malformed), warehouse_url=SecretStr(url), redshift_standin=True, max_errors=1)

    assert query(url, "SELECT table_name, source_key, line_number FROM load_errors") == [(
        "staging_events", "s3://sparkify-local/log_data/2018/11/2018-11-01-events.json", 2)]
    assert query(url, "SELECT user_id FROM songplay ORDER BY 1") == [("1",), ("3",)]
