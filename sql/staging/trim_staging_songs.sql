-- Trailing blanks dropped from every text column of staging_songs, on every engine:
-- Redshift compares VARCHAR values ignoring them ("the trailing blanks ... are semantically
-- insignificant": https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html),
-- PostgreSQL does not. Kept, they would match, group and de-duplicate differently on the two
-- engines (a title 'Song ' is the play of 'Song' on Redshift only); dropped, both agree.
-- LIKE '% ', not RIGHT(x, 1) = ' ': on Redshift = ignores trailing blanks, so '' = ' ' holds and
-- an empty value would count as trimmed; LIKE does not ignore them
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html).
UPDATE staging_songs
SET
    artist_id = RTRIM(artist_id),
    artist_location = RTRIM(artist_location),
    artist_name = RTRIM(artist_name),
    song_id = RTRIM(song_id),
    title = RTRIM(title)
WHERE
    artist_id LIKE '% '
    OR artist_location LIKE '% '
    OR artist_name LIKE '% '
    OR song_id LIKE '% '
    OR title LIKE '% '
