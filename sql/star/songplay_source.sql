-- Remember what every new play asked for, for matching now and when songs arrive later.
INSERT INTO songplay_source (user_id, session_key, item_key, song, artist, length)
SELECT
    staged_plays.user_id,
    staged_plays.session_key,
    staged_plays.item_key,
    staged_plays.song,
    staged_plays.artist,
    staged_plays.length
FROM staged_plays
WHERE NOT EXISTS (
    SELECT 1
    FROM songplay_source AS kept
    WHERE kept.user_id = staged_plays.user_id
      AND kept.session_key = staged_plays.session_key
      AND kept.item_key = staged_plays.item_key
)
