"""The rules of issue #27 item 9, each through the whole run on both engines: the local profile
(client-side staging into PostgreSQL) and the Redshift engine against its stand-in (server-side
COPY by Redshift's documented rules). The table "One rule per oddity" of docs/data-rules.md lists them;
where a rule leaves records as they are or changes them quietly, the run's summary and a
warning say how many it affected."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import orjson
import pytest
from conftest import event, query, song, write_dataset
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import MalformedRecordError, QualityGateError
from sparkify.staging.loader import PARSE_CHUNK_BYTES

pytestmark = pytest.mark.usefixtures("prefect_harness")

DAY = "2018-11-02"
LOG_KEY = f"s3://sparkify-local/log_data/2018/11/{DAY}-events.json"
SONGS = {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]}


@dataclass(frozen=True)
class Engine:
    name: str
    url: str

    def run(self, data, **options):
        return elt(data=str(data), warehouse_url=SecretStr(self.url),
                   redshift_standin=self.name == "redshift", **options)

    def refuses(self, data, rule: str) -> str:
        """The one-line error of a run that refuses a record breaking `rule`: malformed at
        staging on the client path, the staging gate on Redshift (docs/data-rules.md, "Every value is
        checked where it is staged")."""
        expected = QualityGateError if self.name == "redshift" else MalformedRecordError
        with pytest.raises(expected) as failure:
            self.run(data)
        assert rule in str(failure.value) and "\n" not in str(failure.value)
        return str(failure.value)


@pytest.fixture(params=["local", pytest.param("redshift", marks=pytest.mark.slow)])
def engine(request, warehouse_url) -> Engine:
    if request.param == "local":
        return Engine("local", warehouse_url)
    standin = request.getfixturevalue("standin_db")
    return Engine("redshift", standin.login_url(standin.issue_password(3600)))


def test_a_page_that_is_next_song_but_for_case_or_blanks_is_staged_not_a_play_and_counted(
        tmp_path, engine):
    """Rule: a play is page = 'NextSong' exactly (the contract); 'nextsong', ' NextSong' or
    'Next Song' is staged as it is, is not a play, and the run says how many there were. A
    trailing blank is dropped at staging first, so 'NextSong ' is a play."""
    pages = ["NextSong", "NextSong ", "nextsong", " NextSong", "Next Song", "NEXT SONG", "Home"]
    write_dataset(tmp_path, {DAY: [event(userId="1", itemInSession=item, page=page)
                                   for item, page in enumerate(pages)]}, SONGS)

    summary = engine.run(tmp_path)

    assert query(engine.url, "SELECT item_in_session FROM songplay ORDER BY 1") == [(0,), (1,)]
    assert query(engine.url, "SELECT COUNT(*) FROM staging_events") == [(7,)]
    warning = "4 events whose page is NextSong but for case or blanks: staged, not plays"
    assert summary.oddities == (warning,)
    assert warning in summary.text()



def test_a_user_id_with_blanks_around_it_is_the_user_without_them_and_counted(tmp_path, engine):
    """Rule: blanks around a userId are dropped at staging (' 7 ', '7 ' and '  7' are user '7');
    a userId of blanks only is empty (no user). The run says how many it trimmed."""
    user_ids = ["7", " 7 ", "7 ", "  7", "   ", " 12.0"]
    write_dataset(tmp_path, {DAY: [event(userId=user_id, itemInSession=item, page="Home")
                                   for item, user_id in enumerate(user_ids)]}, SONGS)

    summary = engine.run(tmp_path)

    assert query(engine.url, "SELECT user_id FROM users ORDER BY 1") == [("12",), ("7",)]
    assert query(engine.url, "SELECT user_id, COUNT(*) FROM staging_events GROUP BY 1 ORDER BY 1") \
        == [("", 1), ("12", 1), ("7", 4)]
    warning = "5 events whose userId has blanks around it: staged without them"
    assert summary.oddities == (warning,)
    assert warning in summary.text()



def test_a_negative_item_in_session_is_refused(tmp_path, engine):
    """Rule: itemInSession counts a session's events from 0; a negative one is a malformed
    record (a critical rule of the staging suite, applied per record on the client path)."""
    write_dataset(tmp_path, {DAY: [event(userId="1"), event(userId="2", itemInSession=-1)]}, SONGS)

    message = engine.refuses(tmp_path, "item_in_session is 0 or more")

    if engine.name == "local":
        assert f"{LOG_KEY} line 2: key 'itemInSession': -1 breaks the rule" in message
    assert query(engine.url, "SELECT COUNT(*) FROM songplay") == [(0,)]



def test_a_negative_song_year_is_refused(tmp_path, engine):
    """Rule: a song's year is 0 (unknown) or more; a negative one is a malformed record."""
    write_dataset(tmp_path, {DAY: [event(userId="1")]},
                  {"TRAAAAA1": [song("SO1", "A", "AR1", "X"), song("SO2", "B", "AR1", "X", year=-1)]})

    message = engine.refuses(tmp_path, "year is 0 (unknown) or more")

    if engine.name == "local":
        assert "TRAAAAA1.json line 2: key 'year': -1 breaks the rule" in message
    assert query(engine.url, "SELECT COUNT(*) FROM song") == [(0,)]



def test_a_title_in_another_unicode_normalization_form_does_not_match_and_is_counted(
        tmp_path, engine):
    """Rule: titles and artist names match when their characters are the same code points, on
    both engines (neither normalizes: Redshift has no normalization function); a play whose
    song and artist equal a song's only in another form (NFD 'Café' beside NFC 'Café') stays
    unmatched, and the run says how many there were."""
    composed, decomposed = "Café Noir", unicodedata.normalize("NFD", "Café Noir")
    assert composed != decomposed
    events = [event(userId="1", song=decomposed, artist="Élodie", length=200.0),
              event(userId="1", itemInSession=1, song=composed, artist="Élodie", length=200.0),
              event(userId="1", itemInSession=2, song="Ça", artist="Élodie", length=200.0)]
    songs = {"TRAAAAA1": [song("SO1", composed, "AR1", "Élodie")]}
    write_dataset(tmp_path, {DAY: events}, songs)

    summary = engine.run(tmp_path)

    assert query(engine.url, "SELECT item_in_session, song_id FROM songplay ORDER BY 1") == [
        (0, None), (1, "SO1"), (2, None)]
    warning = ("1 NextSong event whose song and artist equal a song's title and artist name only "
               "in another Unicode normalization form: not matched")
    assert summary.oddities == (warning,)
    assert warning in summary.text()



def test_a_pretty_printed_object_across_a_parse_chunk_cut_is_one_record(tmp_path, engine):
    """Rule (Redshift's COPY JSON): a pretty-printed object is one record wherever it lies in
    its file; the client path cuts a body into parse chunks only between two objects."""
    lines = [orjson.dumps(event(userId="1", itemInSession=item, userAgent="u" * 1000))
             for item in range(PARSE_CHUNK_BYTES // 1000)]
    starts_at = PARSE_CHUNK_BYTES - 100  # the body is cut at the first newline past the size
    size, before = 0, 0
    while size + len(lines[before]) + 1 <= starts_at - 400:
        size += len(lines[before]) + 1
        before += 1
    base = len(orjson.dumps(event(userId="1", itemInSession=99_999, userAgent="")))
    pad = orjson.dumps(event(userId="1", itemInSession=99_999,
                             userAgent="p" * (starts_at - size - 1 - base)))
    lines = [*lines[:before], pad, *lines[before:]]
    before += 1
    pretty = orjson.dumps(event(userId="2", itemInSession=0, song="A", artist="X"),
                          option=orjson.OPT_INDENT_2)
    assert sum(len(line) + 1 for line in lines[:before]) == starts_at and len(pretty) > 200
    write_dataset(tmp_path, {DAY: [*lines[:before], pretty, *lines[before:]]}, SONGS)

    summary = engine.run(tmp_path)

    assert summary.malformed == 0
    assert query(engine.url, "SELECT COUNT(*) FROM staging_events") == [(len(lines) + 1,)]
    assert query(engine.url, "SELECT user_id, song_id FROM songplay WHERE user_id = '2'") == [
        ("2", "SO1")]
