-- The kept songs' titles and artist names with a character beyond ASCII (more bytes than
-- characters): what sparkify/oddities.py compares the unmatched plays with, in NFC.
SELECT DISTINCT
    title,
    artist_name
FROM song_records
WHERE OCTET_LENGTH(title) > LENGTH(title)
   OR OCTET_LENGTH(artist_name) > LENGTH(artist_name)
