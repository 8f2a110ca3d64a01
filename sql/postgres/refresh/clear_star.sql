-- --full-refresh: empty the star, its bookkeeping and the ledger in the transform's
-- transaction (PostgreSQL's TRUNCATE is transactional), restarting songplay_id.
TRUNCATE songplay, users, song, artist, time, song_records, songplay_source,
    user_latest_event, play_matches, load_ledger RESTART IDENTITY
