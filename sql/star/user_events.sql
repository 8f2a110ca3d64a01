-- Keep every distinct staged event that has a user, unless already kept.
INSERT INTO user_events (
    user_id, session_id, item_in_session, ts, is_play, level, first_name, last_name, gender,
    song, artist, length, location, user_agent
)
WITH staged_events AS (
    SELECT DISTINCT *
    FROM staged_user_events
)

SELECT staged_events.*
FROM staged_events
WHERE NOT EXISTS (
    SELECT 1
    FROM user_events AS kept
    WHERE kept.user_id = staged_events.user_id
      AND kept.session_id = staged_events.session_id
      AND kept.item_in_session = staged_events.item_in_session
      AND kept.ts = staged_events.ts
      AND kept.is_play = staged_events.is_play
      -- the rest of the record, NULL equal to NULL
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
