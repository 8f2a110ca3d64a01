-- --full-refresh: empty the star, its history and the ledger in the transform's transaction
-- (PostgreSQL's TRUNCATE is transactional), restarting songplay_id.
TRUNCATE songplay, users, song, artist, time, user_level_history, song_records, user_events,
    load_ledger
    RESTART IDENTITY
