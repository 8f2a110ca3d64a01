-- A star built by an earlier version of the pipeline: its tables, and those it kept its history
-- in, are dropped in the transform's transaction and made again from sql/<engine>/ddl/.
DROP TABLE IF EXISTS songplay, users, song, artist, time, user_level_history, song_records,
    user_events, songplay_source, user_latest_event, user_level_events, play_matches
