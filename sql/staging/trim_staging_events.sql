-- Trailing blanks dropped from every text column of staging_events, on every engine:
-- Redshift compares VARCHAR values ignoring them ("the trailing blanks ... are semantically
-- insignificant": https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html),
-- PostgreSQL does not. Kept, they would match, group and de-duplicate differently on the two
-- engines (a title 'Song ' is the play of 'Song' on Redshift only); dropped, both agree.
-- user_id is trimmed at both ends before this (staging/trim_user_ids).
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
    RIGHT(artist, 1) = ' '
    OR RIGHT(auth, 1) = ' '
    OR RIGHT(first_name, 1) = ' '
    OR RIGHT(gender, 1) = ' '
    OR RIGHT(last_name, 1) = ' '
    OR RIGHT(level, 1) = ' '
    OR RIGHT(location, 1) = ' '
    OR RIGHT(method, 1) = ' '
    OR RIGHT(page, 1) = ' '
    OR RIGHT(song, 1) = ' '
    OR RIGHT(user_agent, 1) = ' '
