-- The staged events that have a user, as user_events keeps them: empty strings are NULL, and
-- only a play (a NextSong event) keeps what was played, where and on what. One definition for
-- the statements that read the staged events (star/user_events, star/touched_plays,
-- star/touched_users).
CREATE OR REPLACE VIEW staged_user_events AS
SELECT
    user_id,
    session_id,
    item_in_session,
    ts,
    CASE WHEN page = 'NextSong' THEN TRUE ELSE FALSE END AS is_play,
    NULLIF(level, '') AS level,
    NULLIF(first_name, '') AS first_name,
    NULLIF(last_name, '') AS last_name,
    NULLIF(gender, '') AS gender,
    CASE WHEN page = 'NextSong' THEN NULLIF(song, '') END AS song,
    CASE WHEN page = 'NextSong' THEN NULLIF(artist, '') END AS artist,
    CASE WHEN page = 'NextSong' THEN length END AS length,
    CASE WHEN page = 'NextSong' THEN NULLIF(location, '') END AS location,
    CASE WHEN page = 'NextSong' THEN NULLIF(user_agent, '') END AS user_agent
FROM staging_events
WHERE NULLIF(user_id, '') IS NOT NULL
