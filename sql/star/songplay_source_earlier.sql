-- What a play asked for follows its earliest copy (so its song match does too).
UPDATE songplay_source
SET song = earlier_copies.song,
    artist = earlier_copies.artist,
    length = earlier_copies.length
FROM earlier_copies
WHERE songplay_source.user_id = earlier_copies.user_id
  AND songplay_source.session_key = earlier_copies.session_key
  AND songplay_source.item_key = earlier_copies.item_key
