-- The staged plays no kept song matches whose song or artist has a character beyond ASCII
-- (more bytes than characters), by song and artist: only such a text can equal a song's title
-- or artist name in another Unicode normalization form. Neither engine normalizes (Redshift
-- has no function for it: https://docs.aws.amazon.com/redshift/latest/dg/String_functions_header.html);
-- sparkify/oddities.py compares them in NFC, to count them. LENGTH counts characters and
-- OCTET_LENGTH bytes on both (https://docs.aws.amazon.com/redshift/latest/dg/r_LEN.html).
SELECT
    song,
    artist,
    COUNT(*) AS events
FROM staged_user_events AS staged
WHERE is_play
  AND (OCTET_LENGTH(song) > LENGTH(song) OR OCTET_LENGTH(artist) > LENGTH(artist))
  AND NOT EXISTS (
      SELECT 1
      FROM song_records
      WHERE song_records.title = staged.song
        AND song_records.artist_name = staged.artist
  )
GROUP BY song, artist
