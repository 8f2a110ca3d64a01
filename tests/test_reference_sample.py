"""The contract's reference figures on the real public sample, and an idempotent rerun; the
report's hour-of-day figures and the level history checked against independent computations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from flows.main import elt
from sparkify.analytics.figures import Figures
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import SHARED_SAMPLE, query, requires_shared_sample
from tests.loading import star_snapshot

pytestmark = [pytest.mark.usefixtures("prefect_harness"), requires_shared_sample]

REFERENCE = {"staging_events": 8056, "staging_songs": 71, "songplay": 6820, "users": 97,
             "song": 71, "artist": 69, "time": 6813, "load_errors": 0}
STAGING_AND_ERRORS = ("staging_events", "staging_songs", "load_errors")


def test_reference_figures_and_identical_rerun(warehouse_url):
    summary = elt(data=str(SHARED_SAMPLE), warehouse_url=SecretStr(warehouse_url))
    assert {table: summary.rows[table] for table in REFERENCE} == REFERENCE
    assert summary.matched_plays == 1
    assert query(warehouse_url, "SELECT level, COUNT(*) FROM users GROUP BY level ORDER BY 1") == [
        ("free", 75), ("paid", 22)]
    matched = ("SELECT song.title, artist.name FROM songplay JOIN song USING (song_id) "
               "JOIN artist ON artist.artist_id = songplay.artist_id")
    assert query(warehouse_url, matched) == [("Setanta matins", "Elena")]
    assert_the_report_and_history_agree_with_independent_figures(warehouse_url)

    before = star_snapshot(warehouse_url, also=STAGING_AND_ERRORS)
    again = elt(data=str(SHARED_SAMPLE), warehouse_url=SecretStr(warehouse_url))
    assert {table: again.rows[table] for table in REFERENCE} == REFERENCE
    assert star_snapshot(warehouse_url, also=STAGING_AND_ERRORS) == before


def assert_the_report_and_history_agree_with_independent_figures(url: str) -> None:
    hours = dict(query(url, "SELECT hour, count(*) FROM songplay JOIN time USING (start_time) "
                            "GROUP BY hour"))
    charted = Figures.collect(PostgresWarehouse(url)).plays_by_hour()
    assert charted == [(hour, hours.get(hour, 0)) for hour in range(24)]
    assert sum(plays for _, plays in charted) == REFERENCE["songplay"]

    history = query(url, "SELECT user_id, level, valid_from, valid_to FROM user_level_history")
    assert sorted(history) == sorted(periods_from_the_source_files())
    assert len([row for row in history if row[3] is None]) == REFERENCE["users"]


def periods_from_the_source_files() -> list[tuple]:
    """Each user's periods on a level, computed in Python from the raw event lines: at each
    millisecond the level of the user's last event (by itemInSession, sessionId, level)."""
    events: dict[str, set] = {}
    for path in (SHARED_SAMPLE / "log_data").rglob("*.json"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                e = json.loads(line)
                if e["userId"] and e["level"]:
                    events.setdefault(e["userId"], set()).add(
                        (e["ts"], e["itemInSession"], e["sessionId"], e["level"]))
    periods = []
    for user_id, seen in events.items():
        level_at = {ts: level for ts, _, _, level in sorted(seen)}  # the last one at ts wins
        starts = []
        for ts in sorted(level_at):
            if not starts or starts[-1][1] != level_at[ts]:
                starts.append((ts, level_at[ts]))
        ends = [ts for ts, _ in starts[1:]] + [None]
        periods += [(user_id, level, _at(ts), _at(end)) for (ts, level), end in zip(starts, ends)]
    return periods


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime(1970, 1, 1) + timedelta(milliseconds=ts)
