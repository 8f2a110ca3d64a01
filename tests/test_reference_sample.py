"""The contract's reference figures on the real public sample, and an idempotent rerun."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from flows.main import elt
from tests.conftest import SHARED_SAMPLE, query, requires_shared_sample, snapshot

pytestmark = [pytest.mark.usefixtures("prefect_harness"), requires_shared_sample]

REFERENCE = {"staging_events": 8056, "staging_songs": 71, "songplay": 6820, "users": 97,
             "song": 71, "artist": 69, "time": 6813, "load_errors": 0}
EVERY_TABLE = ("staging_events", "staging_songs", "songplay", "users", "song", "artist", "time",
               "load_errors")


def test_reference_figures_and_identical_rerun(warehouse_url):
    summary = elt(data=str(SHARED_SAMPLE), warehouse_url=SecretStr(warehouse_url))
    assert summary.rows == REFERENCE
    assert summary.matched_plays == 1
    assert query(warehouse_url, "SELECT level, COUNT(*) FROM users GROUP BY level ORDER BY 1") == [
        ("free", 75), ("paid", 22)]
    matched = ("SELECT song.title, artist.name FROM songplay JOIN song USING (song_id) "
               "JOIN artist ON artist.artist_id = songplay.artist_id")
    assert query(warehouse_url, matched) == [("Setanta matins", "Elena")]

    before = snapshot(warehouse_url, EVERY_TABLE)
    again = elt(data=str(SHARED_SAMPLE), warehouse_url=SecretStr(warehouse_url))
    assert again.rows == REFERENCE
    assert snapshot(warehouse_url, EVERY_TABLE) == before
