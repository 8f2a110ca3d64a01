-- --full-refresh: empty the star, its bookkeeping and the ledger in the transform's
-- transaction (PostgreSQL's TRUNCATE is transactional), restarting songplay_id.
TRUNCATE songplay, users, song, artist, time, user_level_history, song_records,
    songplay_source, user_latest_event, user_level_events, play_matches, load_ledger
    RESTART IDENTITY
