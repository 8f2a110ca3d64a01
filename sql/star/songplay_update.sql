-- Touched plays already in songplay keep their songplay_id and take what they are now; a play
-- that did not change is not written.
UPDATE songplay
SET start_time = touched_plays.start_time,
    level = touched_plays.level,
    song_id = touched_plays.song_id,
    artist_id = touched_plays.artist_id,
    session_id = touched_plays.session_id,
    item_in_session = touched_plays.item_in_session,
    location = touched_plays.location,
    user_agent = touched_plays.user_agent,
    song_title = touched_plays.song_title,
    artist_name = touched_plays.artist_name
FROM touched_plays
WHERE songplay.songplay_id = touched_plays.songplay_id
  -- A value differs when both are known and unequal, or exactly one is NULL.
  AND (songplay.start_time <> touched_plays.start_time
       OR songplay.level <> touched_plays.level
       OR (songplay.level IS NULL) <> (touched_plays.level IS NULL)
       OR songplay.song_id <> touched_plays.song_id
       OR (songplay.song_id IS NULL) <> (touched_plays.song_id IS NULL)
       OR songplay.artist_id <> touched_plays.artist_id
       OR (songplay.artist_id IS NULL) <> (touched_plays.artist_id IS NULL)
       OR songplay.session_id <> touched_plays.session_id
       OR (songplay.session_id IS NULL) <> (touched_plays.session_id IS NULL)
       OR songplay.item_in_session <> touched_plays.item_in_session
       OR (songplay.item_in_session IS NULL) <> (touched_plays.item_in_session IS NULL)
       OR songplay.location <> touched_plays.location
       OR (songplay.location IS NULL) <> (touched_plays.location IS NULL)
       OR songplay.user_agent <> touched_plays.user_agent
       OR (songplay.user_agent IS NULL) <> (touched_plays.user_agent IS NULL)
       OR songplay.song_title <> touched_plays.song_title
       OR (songplay.song_title IS NULL) <> (touched_plays.song_title IS NULL)
       OR songplay.artist_name <> touched_plays.artist_name
       OR (songplay.artist_name IS NULL) <> (touched_plays.artist_name IS NULL))
