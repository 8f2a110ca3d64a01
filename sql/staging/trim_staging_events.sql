-- Trailing blanks dropped from every text column of staging_events, on every engine:
-- Redshift compares VARCHAR values ignoring them ("the trailing blanks ... are semantically
-- insignificant": https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html),
-- PostgreSQL does not. Kept, they would match, group and de-duplicate differently on the two
-- engines (a title 'Song ' is the play of 'Song' on Redshift only); dropped, both agree.
-- user_id is trimmed at both ends before this (staging/trim_user_ids).
-- LIKE '% ', not RIGHT(x, 1) = ' ': on Redshift = ignores trailing blanks, so '' = ' ' holds and
-- an empty value would count as trimmed; LIKE does not ignore them
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html).
UPDATE staging_events
SET
    artist = RTRIM(artist),
    auth = RTRIM(auth),
    first_name = RTRIM(first_name),
    gender = RTRIM(gender),
    last_name = RTRIM(last_name),
    level = RTRIM(level),
    location = RTRIM(location),
    method = RTRIM(method),
    page = RTRIM(page),
    song = RTRIM(song),
    user_agent = RTRIM(user_agent)
WHERE
    artist LIKE '% '
    OR auth LIKE '% '
    OR first_name LIKE '% '
    OR gender LIKE '% '
    OR last_name LIKE '% '
    OR level LIKE '% '
    OR location LIKE '% '
    OR method LIKE '% '
    OR page LIKE '% '
    OR song LIKE '% '
    OR user_agent LIKE '% '
