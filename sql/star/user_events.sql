-- Keep every distinct event of the load that has a user, unless already kept.
INSERT INTO user_events (
    user_id, session_id, item_in_session, ts, is_play, level, first_name, last_name, gender,
    song, artist, length, location, user_agent
)
WITH staged_events AS (
    SELECT DISTINCT
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
)

SELECT staged_events.*
FROM staged_events
WHERE NOT EXISTS (
    SELECT 1
    FROM user_events AS kept
    WHERE kept.user_id = staged_events.user_id
      AND COALESCE(kept.session_id, -1) = COALESCE(staged_events.session_id, -1)
      AND COALESCE(kept.item_in_session, -1) = COALESCE(staged_events.item_in_session, -1)
      -- the rest of the record, NULL equal to NULL
      AND (kept.session_id = staged_events.session_id
           OR (kept.session_id IS NULL AND staged_events.session_id IS NULL))
      AND (kept.item_in_session = staged_events.item_in_session
           OR (kept.item_in_session IS NULL AND staged_events.item_in_session IS NULL))
      AND (kept.ts = staged_events.ts OR (kept.ts IS NULL AND staged_events.ts IS NULL))
      AND kept.is_play = staged_events.is_play
      AND (kept.level = staged_events.level OR (kept.level IS NULL AND staged_events.level IS NULL))
      AND (kept.first_name = staged_events.first_name
           OR (kept.first_name IS NULL AND staged_events.first_name IS NULL))
      AND (kept.last_name = staged_events.last_name
           OR (kept.last_name IS NULL AND staged_events.last_name IS NULL))
      AND (kept.gender = staged_events.gender
           OR (kept.gender IS NULL AND staged_events.gender IS NULL))
      AND (kept.song = staged_events.song OR (kept.song IS NULL AND staged_events.song IS NULL))
      AND (kept.artist = staged_events.artist
           OR (kept.artist IS NULL AND staged_events.artist IS NULL))
      AND (kept.length = staged_events.length
           OR (kept.length IS NULL AND staged_events.length IS NULL))
      AND (kept.location = staged_events.location
           OR (kept.location IS NULL AND staged_events.location IS NULL))
      AND (kept.user_agent = staged_events.user_agent
           OR (kept.user_agent IS NULL AND staged_events.user_agent IS NULL))
)
