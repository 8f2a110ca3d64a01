"""The warehouse's data model: its tables and views, and the transform's statements in order.

What each table holds is in its DDL (sql/<engine>/ddl/) and docs/contract.md; how the
transform derives the star from the history is in docs/transform.md.
"""

# Creation order: staging and bookkeeping first, then dimensions, then the fact.
TABLES = (
    "staging_events", "staging_songs", "load_errors", "load_ledger",
    "users", "user_level_history", "artist", "song", "time", "songplay",
    "song_records", "user_events",
)
VIEWS = ("staged_user_events",)  # created after the tables
STAR_TABLES = ("songplay", "users", "song", "artist", "time", "user_level_history")
HISTORY_TABLES = ("song_records", "user_events")  # what the star is derived from

# The transform, in order: the history (every distinct song record and user event ever staged)
# and the star tables, whose rows of the keys this load touches are deleted and recomputed by
# the SELECT a full load runs (songplay's are updated in place, so a play keeps its
# songplay_id). The touched plays are computed before this load's events join the history.
TRANSFORM_STEPS = (
    "star/song_records", "star/song_records_analyze",
    "star/artist_remove_restaged", "star/artist",
    "star/song_remove_restaged", "star/song",
    "star/touched_plays",
    "star/user_events", "star/touched_users",
    "star/users_remove_touched", "star/users",
    "star/user_level_history_remove_touched", "star/user_level_history",
    "star/songplay_update", "star/songplay",
    "star/time_remove_unused", "star/time",
)

# The steps that each fill one table, and the table: it is empty on a first load and after a
# full refresh, when PostgreSQL builds its indexes after the insert instead of row by row
# (PostgresWarehouse.run_step).
TABLE_FILLED_BY = {
    "star/user_events": "user_events",
    "star/songplay": "songplay",
    "star/time": "time",
}
