-- Sparkify ELT dry run: every SQL statement of one run, in the order a real run sends them.
-- Nothing was executed and nothing written.
-- profile aws; region us-west-2
-- target: Redshift cluster sparkify at sparkify.abc123.us-west-2.redshift.amazonaws.com:5439/sparkify as **** (schema public)
-- login: temporary IAM credentials from redshift GetClusterCredentials(ClusterIdentifier='sparkify', DbUser='sparkify', DbName='sparkify', DurationSeconds=3600, AutoCreate=False): user **** and password ****, not requested on a dry run
-- events: s3://sparkify-golden/log_data (JSONPaths s3://sparkify-golden/log_json_path.json)
-- songs:  s3://sparkify-golden/song_data

-- session/search_path (connection 1)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 1

-- lock/create (connection 1)
-- Redshift has no advisory locks: runs take turns on an exclusive LOCK of this empty table,
-- held by the lock connection's open transaction until that connection closes.
CREATE TABLE IF NOT EXISTS elt_lock (
    locked_by VARCHAR(256)
);

COMMIT; -- connection 1

-- lock/set_timeout (connection 1)
-- Bounds the first LOCK attempt: a timeout means another run holds the lock (0: no limit).
SET statement_timeout TO 2000;

-- lock/acquire (connection 1)
-- Waits while another run's transaction holds the lock; held until this transaction ends.
LOCK elt_lock;

-- lock/set_timeout (connection 1)
-- Bounds the first LOCK attempt: a timeout means another run holds the lock (0: no limit).
SET statement_timeout TO 0;

-- session/search_path (connection 2)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 2

-- ddl/schema_exists (connection 2; parameters: 1 value)
-- Whether the pipeline's schema exists (CREATE SCHEMA only runs when it does not).
SELECT 1 FROM pg_namespace WHERE nspname = %s;

-- ddl/staging_events (connection 2)
-- One row per event line, columns in the order of log_json_path.json: COPY maps the i-th
-- JSONPath to the i-th listed column. ts stays epoch milliseconds (staged_plays converts it).
-- VARCHAR lengths are bytes on Redshift: 1024 for free text (names, titles, user agents,
-- multi-byte), 256 (Redshift's TEXT) for keys and codes.
-- DISTKEY user_id: the transforms regroup the events by user (staged_plays numbers each
-- user's plays, newer_user_events finds each user's latest event) and join them to
-- songplay_source and play_matches, both DISTKEY user_id, so all of that runs slice-local.
-- Logged-out events (empty userId) share one slice: a small, bounded skew. No sort key: the
-- table is rewritten by every load and read whole, and sorting would only slow the COPY.
CREATE TABLE IF NOT EXISTS staging_events (
    artist          VARCHAR(1024),
    auth            VARCHAR(256),
    first_name      VARCHAR(256),
    gender          VARCHAR(256),
    item_in_session BIGINT,
    last_name       VARCHAR(256),
    length          DOUBLE PRECISION,
    level           VARCHAR(256),
    location        VARCHAR(1024),
    method          VARCHAR(256),
    page            VARCHAR(256),
    registration    DOUBLE PRECISION,
    session_id      BIGINT,
    song            VARCHAR(1024),
    status          BIGINT,
    ts              BIGINT,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(256)
)
DISTKEY (user_id);

-- ddl/staging_songs (connection 2)
-- One row per song record, columns named after the source keys (COPY ... JSON 'auto
-- ignorecase' matches them case-insensitively).
-- DISTSTYLE ALL: holds the songs of one load, which are joined to songplay_source (one row
-- per play, DISTKEY user_id) on title and artist name to find earlier plays a new song can
-- match; a copy on every node keeps that join local without moving the plays. For a first
-- load of a catalogue of many millions of songs, DISTSTYLE EVEN would copy faster.
-- No sort key: rewritten by every load and read whole.
CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(256),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(1024),
    artist_name      VARCHAR(1024),
    song_id          VARCHAR(256),
    title            VARCHAR(1024),
    duration         DOUBLE PRECISION,
    year             INTEGER
)
DISTSTYLE ALL;

-- ddl/load_errors (connection 2)
-- Malformed source records tolerated by --max-errors, as of each staging table's latest load.
-- DISTSTYLE AUTO: a handful of rows, never joined; Redshift keeps it on every node while it
-- is small and spreads it evenly if it ever grows. No sort key: read whole, when at all.
-- source_key is an s3:// URI: up to 1093 bytes (ddl/load_ledger.sql says why).
CREATE TABLE IF NOT EXISTS load_errors (
    run_id      VARCHAR(256) NOT NULL,
    table_name  VARCHAR(256) NOT NULL,
    source_key  VARCHAR(1093) NOT NULL,
    line_number INTEGER NOT NULL,
    reason      VARCHAR(1024) NOT NULL,
    raw_text    VARCHAR(1024),
    logged_at   TIMESTAMP NOT NULL DEFAULT GETDATE()
)
DISTSTYLE AUTO;

-- ddl/load_ledger (connection 2)
-- One row per source object loaded (incremental loading). rows stays NULL for Redshift loads:
-- a server-side COPY reports the rows of the whole load, not of each object.
-- DISTSTYLE ALL, sorted by source_key: every listed object is looked up by key before a load,
-- and one short row per object stays small enough to copy to every node.
-- Primary keys are informational on Redshift (not enforced): the loader keeps them unique.
-- source_key is the object's s3:// URI: 's3://' + a bucket name (up to 63 bytes) + '/' + a key
-- (up to 1024 bytes of UTF-8) is up to 1093 bytes, and VARCHAR counts bytes.
CREATE TABLE IF NOT EXISTS load_ledger (
    source_key VARCHAR(1093) NOT NULL,
    etag       VARCHAR(256) NOT NULL,
    size       BIGINT NOT NULL,
    rows       BIGINT,
    run_id     VARCHAR(256) NOT NULL,
    loaded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (source_key)
)
DISTSTYLE ALL
SORTKEY (source_key);

-- ddl/users (connection 2)
-- DISTSTYLE ALL, sorted by user_id: a small dimension (one row per user) joined to songplay,
-- so a copy on every node makes that join local whatever songplay is distributed on.
-- Primary keys are informational on Redshift (not enforced): users_remove_restaged and
-- users keep user_id unique.
CREATE TABLE IF NOT EXISTS users (
    user_id    VARCHAR(256) NOT NULL,
    first_name VARCHAR(256),
    last_name  VARCHAR(256),
    gender     VARCHAR(256),
    level      VARCHAR(256),
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (user_id);

-- ddl/user_level_history (connection 2)
-- One row per user and period on a level; valid_to is NULL while the period is current.
-- DISTSTYLE ALL, like users: a few rows per user (one per change of plan), joined to users
-- and songplay by user_id, so a copy on every node keeps those joins local. COMPOUND SORTKEY
-- (user_id, valid_from): a user's periods are read in order.
-- Primary keys are informational on Redshift (not enforced): the transforms rebuild each
-- restaged user's periods, which keeps (user_id, valid_from) unique.
CREATE TABLE IF NOT EXISTS user_level_history (
    user_id    VARCHAR(256) NOT NULL,
    level      VARCHAR(256) NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_to   TIMESTAMP,
    PRIMARY KEY (user_id, valid_from)
)
DISTSTYLE ALL
COMPOUND SORTKEY (user_id, valid_from);

-- ddl/artist (connection 2)
-- DISTSTYLE ALL, sorted by artist_id: a small dimension joined to songplay and song, local on
-- every node. Primary keys are informational on Redshift (not enforced): the star transforms
-- delete and re-insert each restaged artist, which keeps artist_id unique.
CREATE TABLE IF NOT EXISTS artist (
    artist_id VARCHAR(256) NOT NULL,
    name      VARCHAR(1024),
    location  VARCHAR(1024),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    PRIMARY KEY (artist_id)
)
DISTSTYLE ALL
SORTKEY (artist_id);

-- ddl/song (connection 2)
-- DISTSTYLE ALL, sorted by song_id: joined to songplay (distributed on start_time) and by
-- staged_plays, so a copy on every node avoids redistributing either side. Fine up to a few
-- million songs; beyond that prefer DISTKEY (song_id).
-- Primary keys are informational on Redshift (not enforced): the transforms keep song_id unique.
CREATE TABLE IF NOT EXISTS song (
    song_id   VARCHAR(256) NOT NULL,
    title     VARCHAR(1024),
    artist_id VARCHAR(256),
    year      INTEGER,
    duration  DOUBLE PRECISION,
    PRIMARY KEY (song_id)
)
DISTSTYLE ALL
SORTKEY (song_id);

-- ddl/time (connection 2)
-- One row per distinct songplay.start_time, so about as large as the fact itself.
-- DISTKEY and SORTKEY start_time, like songplay: the two are joined on start_time, which then
-- runs slice-local as a merge join, and time-range filters skip blocks.
-- Primary keys are informational on Redshift (not enforced): star/time inserts new times only.
CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL,
    hour       SMALLINT NOT NULL,
    day        SMALLINT NOT NULL,
    week       SMALLINT NOT NULL,
    month      SMALLINT NOT NULL,
    year       SMALLINT NOT NULL,
    weekday    SMALLINT NOT NULL,
    PRIMARY KEY (start_time)
)
DISTKEY (start_time)
SORTKEY (start_time);

-- ddl/songplay (connection 2)
-- The fact. item_in_session completes the identity of a play (user_id, session_id,
-- item_in_session); Redshift enforces neither that nor the primary key, so star/songplay
-- inserts only plays not loaded before, which is what makes reloading an event a no-op.
-- DISTKEY start_time: nearly unique, so rows spread evenly, and co-located with time (same
-- key). song_id would skew: most plays match no song and would all land on one slice.
-- SORTKEY start_time: analyses filter on time ranges, and the merge join with time needs it.
-- songplay_id: IDENTITY values are unique but not consecutive on Redshift. song_title and
-- artist_name are what the play asked for, as the event named them (a degenerate dimension).
CREATE TABLE IF NOT EXISTS songplay (
    songplay_id     BIGINT IDENTITY(0, 1) NOT NULL,
    start_time      TIMESTAMP NOT NULL,
    user_id         VARCHAR(256) NOT NULL,
    level           VARCHAR(256),
    song_id         VARCHAR(256),
    artist_id       VARCHAR(256),
    session_id      BIGINT NOT NULL,
    item_in_session BIGINT NOT NULL,
    location        VARCHAR(1024),
    user_agent      VARCHAR(1024),
    song_title      VARCHAR(1024),
    artist_name     VARCHAR(1024),
    PRIMARY KEY (songplay_id)
)
DISTKEY (start_time)
SORTKEY (start_time);

-- ddl/song_records (connection 2)
-- Every distinct song record ever staged. Incremental loads pick song and artist details and
-- match plays over all of them, so the star always equals a full reload of every object seen.
-- DISTSTYLE ALL, sorted by song_id: catalogue-sized like song; plays (songplay_source) are
-- matched to it on title and artist name, and a copy on every node keeps that join local.
-- Redshift has no indexes: the sort key serves the song_id lookups of the song and artist
-- rebuilds. Switch to DISTKEY (title) with songplay_source DISTKEY (song) past a few million.
CREATE TABLE IF NOT EXISTS song_records (
    song_id          VARCHAR(256) NOT NULL,
    title            VARCHAR(1024),
    artist_id        VARCHAR(256),
    artist_name      VARCHAR(1024),
    artist_location  VARCHAR(1024),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    duration         DOUBLE PRECISION,
    year             INTEGER
)
DISTSTYLE ALL
SORTKEY (song_id);

-- ddl/user_events (connection 2)
-- Every distinct event that has a user, kept once: the history the star is derived from. A
-- load recomputes the users, level periods and plays it touches from all of their events here,
-- so loads in any order end as a full reload of every object seen. Empty strings are NULL; the
-- song fields of an event that is not a play are not kept (nothing reads them). ts, sessionId
-- and itemInSession are never null: staging refuses such a record
-- (expectations/staging_events.yml).
-- As large as every load's events together. DISTKEY user_id, like staging_events: a user's
-- latest event, level periods and plays are all computed per user, slice-local. COMPOUND
-- SORTKEY on the event's identity: the copies of one event, and one user's events, sit together.
CREATE TABLE IF NOT EXISTS user_events (
    user_id         VARCHAR(256) NOT NULL,
    session_id      BIGINT NOT NULL,
    item_in_session BIGINT NOT NULL,
    ts              BIGINT NOT NULL,
    is_play         BOOLEAN NOT NULL,
    level           VARCHAR(256),
    first_name      VARCHAR(256),
    last_name       VARCHAR(256),
    gender          VARCHAR(256),
    song            VARCHAR(1024),
    artist          VARCHAR(1024),
    length          DOUBLE PRECISION,
    location        VARCHAR(1024),
    user_agent      VARCHAR(1024)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_id, item_in_session);

-- ddl/staged_user_events (connection 2)
-- The staged events that have a user, as user_events keeps them: empty strings are NULL, and
-- only a play (a NextSong event) keeps what was played, where and on what. One definition for
-- the statements that read the staged events (star/user_events, star/touched_plays,
-- star/touched_users).
CREATE OR REPLACE VIEW staged_user_events AS
SELECT
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
WHERE NULLIF(user_id, '') IS NOT NULL;

COMMIT; -- connection 2

-- session/search_path (connection 3)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 3

-- ledger/history_missing (connection 3)
-- A star built by an earlier version of the pipeline: users but no user_events (it kept its
-- history in other tables), or a songplay without the title and artist its plays asked for.
-- The next load makes these tables again and rebuilds them from every source object.
SELECT CASE
    WHEN EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM user_events) THEN 1
    WHEN NOT EXISTS (
        SELECT 1
        FROM information_schema.columns
        WHERE table_schema = 'public'
          AND table_name = 'songplay'
          AND column_name = 'song_title'
    ) THEN 1
    ELSE 0
END;

COMMIT; -- connection 3

-- session/search_path (connection 4)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 4

-- ledger/loaded_objects (connection 4)
SELECT source_key, etag FROM load_ledger;

COMMIT; -- connection 4

-- ---- side by side (1 of 2, thread 'stage staging_events'): runs at the same time as the other block(s), each in its own session ----

-- session/search_path (connection 5)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 5

-- staging/clear_staging_events (connection 5)
-- DELETE, not TRUNCATE: Redshift's TRUNCATE commits the open transaction, so a failed COPY
-- could no longer be rolled back to the previous staging rows. Redshift's automatic
-- VACUUM DELETE reclaims the deleted blocks in the background.
DELETE FROM staging_events;

-- staging/copy_staging_events (connection 5)
-- Server-side load from S3 with the cluster's IAM role. Each slice reads whole files (JSON is
-- not split), so the number of files relative to the cluster's slices sets the parallelism.
-- FROM is a key prefix ending in '/' (a prefix matches every key that starts with it, so
-- log_data would also load log_data_old/...), or a manifest listing exactly the keys
-- selected for this load.
-- FORMAT AS JSON '<jsonpaths>': the i-th JSONPath fills the i-th listed column, which maps the
-- camelCase keys (firstName, userId, ...) to snake_case columns; plain JSON 'auto' would
-- match keys case-sensitively and load those columns as NULL.
-- GZIP, ZSTD or BZIP2 when the objects are compressed (.json.gz, .json.zst, .json.bz2): one
-- COPY per kind, each through a manifest of exactly its keys.
-- COMPUPDATE OFF STATUPDATE OFF: keep the table's encodings; staging/analyze refreshes the
-- statistics after the load. MAXERROR is --max-errors + 1 (0 for none): COPY fails once it
-- returns MAXERROR bad records, so it tolerates --max-errors, as the local load does.
COPY staging_events (
    artist, auth, first_name, gender, item_in_session, last_name, length, level,
    location, method, page, registration, session_id, song, status, ts,
    user_agent, user_id
)
FROM 's3://sparkify-golden/log_data/'
IAM_ROLE 'arn:aws:iam::123456789012:role/sparkify-redshift-s3-read'
FORMAT AS JSON 's3://sparkify-golden/log_json_path.json'
-- no MANIFEST: COPY loads every object under the prefix
-- not compressed (.json)
REGION 'us-west-2'
COMPUPDATE OFF
STATUPDATE OFF
MAXERROR 0;

-- staging/last_copy (connection 5)
-- Rows loaded by this session's latest COPY, and its query id (the key of stl_load_errors).
SELECT
    PG_LAST_COPY_COUNT() AS rows_loaded,
    PG_LAST_COPY_ID() AS copy_query_id;

-- staging/trim_user_ids (connection 5)
-- Blanks around a userId are dropped on every engine: " 7 " is user "7", an id being its
-- characters, not its padding (Redshift ignores trailing blanks in comparisons anyway:
-- staging/trim_staging_events); a userId of blanks only becomes empty, no user. The rows it
-- changes are counted in the run's warnings (sparkify/oddities.py). LIKE sees trailing blanks on
-- both engines, where = would ignore them on Redshift ("LIKE and ILIKE predicates do not
-- implicitly ignore trailing spaces":
-- https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html; BTRIM:
-- https://docs.aws.amazon.com/redshift/latest/dg/r_BTRIM.html).
UPDATE staging_events
SET user_id = BTRIM(user_id)
WHERE user_id LIKE ' %' OR user_id LIKE '% ';

-- staging/trim_staging_events (connection 5)
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
    OR user_agent LIKE '% ';

-- staging/canonical_user_ids (connection 5)
-- A userId written as an integral number (12.0, or "12.0") names the same user as 12: staged
-- as its integer text on both engines, so 12, 12.0 and "12" are one user.
UPDATE staging_events
SET user_id = SPLIT_PART(user_id, '.', 1)
WHERE user_id LIKE '%.0%'  -- a cheap test first: the pattern below needs '.0'
  AND user_id ~ '^[0-9]+[.]0+$';

-- staging/analyze (connection 5)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE staging_events;

COMMIT; -- connection 5

-- ---- side by side (2 of 2, thread 'stage staging_songs'): runs at the same time as the other block(s), each in its own session ----

-- session/search_path (connection 6)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 6

-- staging/clear_staging_songs (connection 6)
-- DELETE, not TRUNCATE: Redshift's TRUNCATE commits the open transaction, so a failed COPY
-- could no longer be rolled back to the previous staging rows. Redshift's automatic
-- VACUUM DELETE reclaims the deleted blocks in the background.
DELETE FROM staging_songs;

-- staging/copy_staging_songs (connection 6)
-- Server-side load from S3 with the cluster's IAM role; one song object per line.
-- FROM is a key prefix ending in '/' (a prefix matches every key that starts with it), or a
-- manifest listing exactly the keys selected for this load.
-- JSON 'auto ignorecase': keys match the column names case-insensitively (plain 'auto' is
-- case-sensitive and would load differently-cased keys as NULL).
-- GZIP, ZSTD or BZIP2 when the objects are compressed (.json.gz, .json.zst, .json.bz2): one
-- COPY per kind, each through a manifest of exactly its keys.
-- COMPUPDATE OFF STATUPDATE OFF: keep the table's encodings; staging/analyze refreshes the
-- statistics after the load. MAXERROR is --max-errors + 1 (0 for none): COPY fails once it
-- returns MAXERROR bad records, so it tolerates --max-errors, as the local load does.
COPY staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location,
    artist_name, song_id, title, duration, year
)
FROM 's3://sparkify-golden/song_data/'
IAM_ROLE 'arn:aws:iam::123456789012:role/sparkify-redshift-s3-read'
FORMAT AS JSON 'auto ignorecase'
-- no MANIFEST: COPY loads every object under the prefix
-- not compressed (.json)
REGION 'us-west-2'
COMPUPDATE OFF
STATUPDATE OFF
MAXERROR 0;

-- staging/last_copy (connection 6)
-- Rows loaded by this session's latest COPY, and its query id (the key of stl_load_errors).
SELECT
    PG_LAST_COPY_COUNT() AS rows_loaded,
    PG_LAST_COPY_ID() AS copy_query_id;

-- staging/trim_staging_songs (connection 6)
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
    OR title LIKE '% ';

-- staging/analyze (connection 6)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE staging_songs;

COMMIT; -- connection 6

-- ---- end of the work side by side ----

-- session/search_path (connection 7)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 7

-- staging/clear_load_errors (connection 7)
DELETE FROM load_errors WHERE table_name = 'staging_events';

-- staging/clear_load_errors (connection 7)
DELETE FROM load_errors WHERE table_name = 'staging_songs';

COMMIT; -- connection 7

-- session/search_path (connection 8)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 8

-- star/song_records (connection 8)
-- Keep every distinct song record staged now, unless already kept.
INSERT INTO song_records (
    song_id, title, artist_id, artist_name, artist_location,
    artist_latitude, artist_longitude, duration, year
)
WITH staged_records AS (
    SELECT DISTINCT
        song_id,
        NULLIF(title, '') AS title,
        NULLIF(artist_id, '') AS artist_id,
        NULLIF(artist_name, '') AS artist_name,
        NULLIF(artist_location, '') AS artist_location,
        artist_latitude,
        artist_longitude,
        duration,
        year
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
)

SELECT staged_records.*
FROM staged_records
WHERE NOT EXISTS (
    SELECT 1
    FROM song_records AS kept
    WHERE kept.song_id = staged_records.song_id
      AND COALESCE(kept.title, '') = COALESCE(staged_records.title, '')
      AND COALESCE(kept.artist_id, '') = COALESCE(staged_records.artist_id, '')
      AND COALESCE(kept.artist_name, '') = COALESCE(staged_records.artist_name, '')
      AND COALESCE(kept.artist_location, '') = COALESCE(staged_records.artist_location, '')
      AND COALESCE(kept.artist_latitude, -999) = COALESCE(staged_records.artist_latitude, -999)
      AND COALESCE(kept.artist_longitude, -999) = COALESCE(staged_records.artist_longitude, -999)
      AND COALESCE(kept.duration, -1) = COALESCE(staged_records.duration, -1)
      AND COALESCE(kept.year, -1) = COALESCE(staged_records.year, -1)
);

-- star/song_records_analyze (connection 8)
-- Filled just now and read by star/touched_plays: without statistics, a first load's planner
-- guessed a table twice as wide and sorted every play for a merge join where a hash join on
-- the few songs is cheaper.
ANALYZE song_records;

-- star/artist_remove_restaged (connection 8)
-- Artists staged now are rebuilt below from all their kept records.
DELETE FROM artist
WHERE artist_id IN (
    SELECT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
);

-- star/artist (connection 8)
INSERT INTO artist (artist_id, name, location, latitude, longitude)
WITH restaged_artists AS (
    SELECT DISTINCT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
),

artist_records AS (
    SELECT
        song_records.artist_id,
        song_records.artist_name AS name,
        song_records.artist_location AS location,
        song_records.artist_latitude AS latitude,
        song_records.artist_longitude AS longitude
    FROM song_records
    INNER JOIN restaged_artists
        ON restaged_artists.artist_id = song_records.artist_id
),

-- An artist repeated with different details: keep the most complete record (a location,
-- then coordinates), then the smallest name and location, so load order never matters.
records_by_preference AS (
    SELECT
        artist_records.*,
        ROW_NUMBER() OVER (
            PARTITION BY artist_id
            ORDER BY CASE WHEN location IS NULL THEN 1 ELSE 0 END,
                     CASE WHEN latitude IS NULL OR longitude IS NULL THEN 1 ELSE 0 END,
                     name NULLS LAST,
                     location NULLS LAST,
                     latitude NULLS LAST,
                     longitude NULLS LAST
        ) AS preference
    FROM artist_records
)

SELECT
    artist_id,
    name,
    location,
    latitude,
    longitude
FROM records_by_preference
WHERE preference = 1;

-- star/song_remove_restaged (connection 8)
-- Songs staged now are rebuilt below from all their kept records.
DELETE FROM song
WHERE song_id IN (
    SELECT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
);

-- star/song (connection 8)
INSERT INTO song (song_id, title, artist_id, year, duration)
WITH restaged_songs AS (
    SELECT DISTINCT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
),

song_records_restaged AS (
    SELECT
        song_records.song_id,
        song_records.title,
        song_records.artist_id,
        song_records.year,
        song_records.duration
    FROM song_records
    INNER JOIN restaged_songs
        ON restaged_songs.song_id = song_records.song_id
),

-- A song repeated with different details: prefer a known year (not 0) and duration, then
-- the smallest title and artist_id, so load order never matters.
records_by_preference AS (
    SELECT
        song_records_restaged.*,
        ROW_NUMBER() OVER (
            PARTITION BY song_id
            ORDER BY CASE WHEN year IS NULL OR year = 0 THEN 1 ELSE 0 END,
                     CASE WHEN duration IS NULL THEN 1 ELSE 0 END,
                     title NULLS LAST,
                     artist_id NULLS LAST,
                     duration NULLS LAST,
                     year
        ) AS preference
    FROM song_records_restaged
)

SELECT
    song_id,
    title,
    artist_id,
    year,
    duration
FROM records_by_preference
WHERE preference = 1;

-- star/touched_plays (connection 8)
-- The plays this load touches, each computed from all its copies as a full load computes every
-- play: the plays it stages, plays kept before whose title and artist a song it stages has,
-- and plays of a song it stages again. Runs before star/user_events adds this load's events,
-- so a play's copies are the staged ones and those kept before. A temporary table of the
-- transform's session: songplay's update and insert and time read it.
CREATE TEMPORARY TABLE touched_plays AS
WITH staged_copies AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        level,
        song,
        artist,
        length,
        location,
        user_agent
    FROM staged_user_events
    WHERE is_play
),

staged_titles AS (
    SELECT DISTINCT
        NULLIF(title, '') AS title,
        NULLIF(artist_name, '') AS artist_name
    FROM staging_songs
),

-- Plays kept before that a staged song may match now (their earliest copy asked for its title
-- and artist), or whose song is staged again (its artist_id may change).
rematched_plays AS (
    SELECT
        songplay.user_id,
        songplay.session_id,
        songplay.item_in_session
    FROM songplay
    INNER JOIN staged_titles
        ON staged_titles.title = songplay.song_title
       AND staged_titles.artist_name = songplay.artist_name

    UNION

    SELECT
        songplay.user_id,
        songplay.session_id,
        songplay.item_in_session
    FROM songplay
    WHERE songplay.song_id IN (SELECT song_id FROM staging_songs)
),

-- The copies kept before of those plays and of the staged ones. A copy read twice (its play
-- is staged and rematched) changes no pick below.
kept_copies AS (
    SELECT user_events.*
    FROM user_events
    WHERE user_events.is_play
      AND EXISTS (
          SELECT 1
          FROM staged_user_events AS staged
          WHERE staged.is_play
            AND staged.user_id = user_events.user_id
            AND staged.session_id = user_events.session_id
            AND staged.item_in_session = user_events.item_in_session
      )

    UNION ALL

    SELECT user_events.*
    FROM user_events
    INNER JOIN rematched_plays
        ON rematched_plays.user_id = user_events.user_id
       AND rematched_plays.session_id = user_events.session_id
       AND rematched_plays.item_in_session = user_events.item_in_session
    WHERE user_events.is_play
),

play_copies AS (
    SELECT * FROM staged_copies

    UNION ALL

    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        level,
        song,
        artist,
        length,
        location,
        user_agent
    FROM kept_copies
),

-- A play is its earliest copy (then the smallest content, so the pick never depends on load
-- order), matched to the kept song with its exact title and artist name whose duration is
-- closest to the played length, then the smallest song_id; no such song leaves it unmatched.
-- One window does both: a copy's candidates sort together, best first.
copies_and_candidates AS (
    SELECT
        play_copies.*,
        song_records.song_id,
        ROW_NUMBER() OVER (
            PARTITION BY play_copies.user_id, play_copies.session_id, play_copies.item_in_session
            ORDER BY play_copies.ts, play_copies.song, play_copies.artist, play_copies.length,
                     play_copies.level, play_copies.location, play_copies.user_agent,
                     ABS(song_records.duration - play_copies.length) NULLS LAST,
                     song_records.song_id
        ) AS pick
    FROM play_copies
    LEFT JOIN song_records
        ON song_records.title = play_copies.song
       AND song_records.artist_name = play_copies.artist
),

plays AS (
    SELECT *
    FROM copies_and_candidates
    WHERE pick = 1
)

SELECT
    kept.songplay_id,
    kept.start_time AS kept_start_time,
    TIMESTAMP 'epoch' + plays.ts / 1000.0 * INTERVAL '1 second' AS start_time,
    plays.user_id,
    plays.level,
    plays.song_id,
    song.artist_id,
    plays.session_id,
    plays.item_in_session,
    plays.location,
    plays.user_agent,
    plays.song AS song_title,
    plays.artist AS artist_name
FROM plays
LEFT JOIN song
    ON song.song_id = plays.song_id
LEFT JOIN songplay AS kept
    ON kept.user_id = plays.user_id
   AND kept.session_id = plays.session_id
   AND kept.item_in_session = plays.item_in_session;

-- star/user_events (connection 8)
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
);

-- star/touched_users (connection 8)
-- The users this load stages an event of: their users row and level periods are recomputed.
-- A temporary table of the transform's session, read by four statements.
CREATE TEMPORARY TABLE touched_users AS
SELECT DISTINCT user_id
FROM staged_user_events;

-- star/users_remove_touched (connection 8)
-- The users of this load are rebuilt below from all their kept events.
DELETE FROM users
WHERE user_id IN (SELECT user_id FROM touched_users);

-- star/users (connection 8)
-- Each user of this load, from their latest kept event of any page (by ts, then itemInSession):
-- a user who upgrades shows 'paid'.
INSERT INTO users (user_id, first_name, last_name, gender, level)
WITH latest_instants AS (
    SELECT
        user_id,
        MAX(ts) AS ts
    FROM user_events
    WHERE user_id IN (SELECT user_id FROM touched_users)
    GROUP BY user_id
),

latest_events AS (
    SELECT user_events.*
    FROM user_events
    INNER JOIN latest_instants
        ON latest_instants.user_id = user_events.user_id
       AND latest_instants.ts = user_events.ts
),

-- Several events in the latest millisecond: the highest itemInSession, then sessionId, then
-- level (the order user_level_history takes an instant's level in), then the rest of the
-- record, so the pick never depends on load order.
events_by_recency AS (
    SELECT
        latest_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id
            ORDER BY item_in_session DESC,
                     session_id DESC,
                     level DESC NULLS LAST,
                     first_name, last_name, gender
        ) AS recency
    FROM latest_events
)

SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM events_by_recency
WHERE recency = 1;

-- star/user_level_history_remove_touched (connection 8)
-- The level periods of the users of this load are rebuilt below from all their kept events.
DELETE FROM user_level_history
WHERE user_id IN (SELECT user_id FROM touched_users);

-- star/user_level_history (connection 8)
-- The periods on a level of every user of this load, from all their kept events in ts order.
INSERT INTO user_level_history (user_id, level, valid_from, valid_to)
WITH level_events AS (
    SELECT
        user_events.user_id,
        user_events.ts,
        user_events.item_in_session,
        user_events.session_id,
        user_events.level
    FROM user_events
    INNER JOIN touched_users
        ON touched_users.user_id = user_events.user_id
    WHERE user_events.level IS NOT NULL
),

-- Several events in one millisecond: the level at that instant is that of the last of them
-- (by itemInSession, then sessionId, then level), the order users takes the latest event in.
events_by_lateness AS (
    SELECT
        level_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, ts
            ORDER BY item_in_session DESC, session_id DESC, level DESC
        ) AS lateness
    FROM level_events
),

level_at_each_instant AS (
    SELECT
        user_id,
        ts,
        level,
        LAG(level) OVER (PARTITION BY user_id ORDER BY ts) AS previous_level
    FROM events_by_lateness
    WHERE lateness = 1
),

-- A period starts at a user's first instant and at each instant whose level differs from
-- the one before; it lasts until the next period starts.
period_starts AS (
    SELECT
        user_id,
        ts,
        level
    FROM level_at_each_instant
    WHERE previous_level IS NULL
       OR previous_level <> level
),

periods AS (
    SELECT
        user_id,
        level,
        ts AS from_ts,
        LEAD(ts) OVER (PARTITION BY user_id ORDER BY ts) AS to_ts
    FROM period_starts
)

SELECT
    user_id,
    level,
    TIMESTAMP 'epoch' + from_ts / 1000.0 * INTERVAL '1 second' AS valid_from,
    TIMESTAMP 'epoch' + to_ts / 1000.0 * INTERVAL '1 second' AS valid_to
FROM periods;

-- star/songplay_update (connection 8)
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
       OR (songplay.artist_name IS NULL) <> (touched_plays.artist_name IS NULL));

-- star/songplay (connection 8)
-- Touched plays not in songplay yet, numbered in time order (then by play key).
INSERT INTO songplay (
    start_time, user_id, level, song_id, artist_id,
    session_id, item_in_session, location, user_agent, song_title, artist_name
)
SELECT
    start_time,
    user_id,
    level,
    song_id,
    artist_id,
    session_id,
    item_in_session,
    location,
    user_agent,
    song_title,
    artist_name
FROM touched_plays
WHERE songplay_id IS NULL
ORDER BY start_time, user_id, session_id, item_in_session;

-- star/time_remove_unused (connection 8)
-- time holds one row per songplay.start_time: a time a touched play moved away from goes when
-- no play has it any more.
DELETE FROM time
WHERE start_time IN (
    SELECT kept_start_time
    FROM touched_plays
    WHERE kept_start_time <> start_time
)
  AND NOT EXISTS (SELECT 1 FROM songplay WHERE songplay.start_time = time.start_time);

-- star/time (connection 8)
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
WITH new_times AS (
    SELECT DISTINCT touched_plays.start_time
    FROM touched_plays
    WHERE NOT EXISTS (
        SELECT 1 FROM time WHERE time.start_time = touched_plays.start_time
    )
)

-- EXTRACT returns numeric on PostgreSQL and integers on Redshift: cast for one schema.
-- week is the ISO week; weekday counts from 0 = Sunday.
SELECT
    start_time,
    CAST(EXTRACT(HOUR FROM start_time) AS SMALLINT) AS hour,
    CAST(EXTRACT(DAY FROM start_time) AS SMALLINT) AS day,
    CAST(EXTRACT(WEEK FROM start_time) AS SMALLINT) AS week,
    CAST(EXTRACT(MONTH FROM start_time) AS SMALLINT) AS month,
    CAST(EXTRACT(YEAR FROM start_time) AS SMALLINT) AS year,
    CAST(EXTRACT(DOW FROM start_time) AS SMALLINT) AS weekday
FROM new_times;

-- ledger/forget_objects (connection 8; parameters: 5 values)
-- Objects loaded again (changed since their last load) replace their ledger rows.
DELETE FROM load_ledger WHERE source_key IN %s;

-- ledger/record_objects (connection 8; parameters: 5 rows)
INSERT INTO load_ledger (source_key, etag, size, rows, run_id, loaded_at) VALUES %s;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE songplay;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE users;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE song;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE artist;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE time;

-- staging/analyze (connection 8)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE user_level_history;

-- ---- beside the transaction above, on another thread ----

-- check staging: the Great Expectations checkpoint 'staging', 19 expectations on staging_events, staging_songs (read-only queries GX generates; not run on a dry run)

-- ---- end of the work beside it ----

COMMIT; -- connection 8

-- check warehouse: the Great Expectations checkpoint 'warehouse', 48 expectations on songplay, users, song, artist, time, user_level_history (read-only queries GX generates; not run on a dry run)

-- ---- beside the transaction above, on another thread ----

-- session/search_path (connection 9)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 9

-- analytics/time_range (connection 9)
-- The time the plays cover: first and last play, and the days with at least one play.
SELECT
    MIN(start_time) AS first_play_at,
    MAX(start_time) AS last_play_at,
    COUNT(DISTINCT CAST(start_time AS DATE)) AS days_with_plays
FROM songplay;

-- analytics/plays_by_hour (connection 9)
-- Plays per hour of the day (UTC); hours without plays are absent.
SELECT
    time.hour,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.hour
ORDER BY time.hour;

-- analytics/plays_by_weekday (connection 9)
-- Plays per day of the week (0 = Sunday, UTC); weekdays without plays are absent.
SELECT
    time.weekday,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.weekday
ORDER BY time.weekday;

-- analytics/plays_per_day (connection 9)
-- Plays per calendar day (UTC); days without plays are absent.
WITH play_dates AS (
    SELECT CAST(start_time AS DATE) AS play_date
    FROM songplay
)

SELECT
    play_date,
    COUNT(*) AS plays
FROM play_dates
GROUP BY play_date
ORDER BY play_date;

-- analytics/top_songs (connection 9)
-- The ten songs played most (plays matched to a song); ties by title, then song_id.
WITH plays_per_song AS (
    SELECT
        song_id,
        COUNT(*) AS plays
    FROM songplay
    WHERE song_id IS NOT NULL
    GROUP BY song_id
)

SELECT
    song.song_id,
    song.title,
    artist.name AS artist_name,
    plays_per_song.plays
FROM plays_per_song
INNER JOIN song
    ON song.song_id = plays_per_song.song_id
LEFT JOIN artist
    ON artist.artist_id = song.artist_id
ORDER BY plays_per_song.plays DESC, song.title, song.song_id
LIMIT 10;

-- analytics/top_artists (connection 9)
-- The ten artists played most (plays matched to a song); ties by name, then artist_id.
WITH plays_per_artist AS (
    SELECT
        artist_id,
        COUNT(*) AS plays
    FROM songplay
    WHERE artist_id IS NOT NULL
    GROUP BY artist_id
)

SELECT
    artist.artist_id,
    artist.name,
    plays_per_artist.plays
FROM plays_per_artist
INNER JOIN artist
    ON artist.artist_id = plays_per_artist.artist_id
ORDER BY plays_per_artist.plays DESC, artist.name, artist.artist_id
LIMIT 10;

-- analytics/free_vs_paid (connection 9)
-- Free and paid: users by their current level (users.level), plays by the level the user had
-- when playing (songplay.level), and each level's share of all plays. A missing level counts
-- as 'unknown', so that the shares add up to 1.
WITH users_by_level AS (
    SELECT
        COALESCE(level, 'unknown') AS level,
        COUNT(*) AS users
    FROM users
    GROUP BY COALESCE(level, 'unknown')
),

plays_by_level AS (
    SELECT
        COALESCE(level, 'unknown') AS level,
        COUNT(*) AS plays
    FROM songplay
    GROUP BY COALESCE(level, 'unknown')
),

levels AS (
    SELECT level FROM users_by_level
    UNION
    SELECT level FROM plays_by_level
),

level_figures AS (
    SELECT
        levels.level,
        COALESCE(users_by_level.users, 0) AS users,
        COALESCE(plays_by_level.plays, 0) AS plays
    FROM levels
    LEFT JOIN users_by_level
        ON users_by_level.level = levels.level
    LEFT JOIN plays_by_level
        ON plays_by_level.level = levels.level
)

SELECT
    level,
    users,
    plays,
    CAST(plays AS DOUBLE PRECISION) / NULLIF(SUM(plays) OVER (), 0) AS share_of_plays
FROM level_figures
ORDER BY level;

-- analytics/level_changes_per_day (connection 9)
-- Upgrades (free to paid) and downgrades (paid to free) per day (UTC), from the periods of
-- user_level_history: a user's first period is no change. Days without a change are absent.
WITH periods AS (
    SELECT
        user_id,
        level,
        valid_from,
        LAG(level) OVER (PARTITION BY user_id ORDER BY valid_from) AS previous_level
    FROM user_level_history
),

changes AS (
    SELECT
        CAST(valid_from AS DATE) AS change_date,
        CASE WHEN previous_level = 'free' AND level = 'paid' THEN 1 ELSE 0 END AS is_upgrade,
        CASE WHEN previous_level = 'paid' AND level = 'free' THEN 1 ELSE 0 END AS is_downgrade
    FROM periods
    WHERE previous_level IS NOT NULL
)

SELECT
    change_date,
    SUM(is_upgrade) AS upgrades,
    SUM(is_downgrade) AS downgrades
FROM changes
GROUP BY change_date
ORDER BY change_date;

-- analytics/sessions_per_user (connection 9)
-- How many sessions users play in: users per bucket of sessions (1, 2-3, 4-7, ... 256+). A
-- session is a user's session_id with at least one play.
WITH sessions_of_users AS (
    SELECT
        user_id,
        COUNT(DISTINCT session_id) AS sessions
    FROM songplay
    GROUP BY user_id
),

-- Buckets double in width: each starts at a power of two and ends before the next.
bucketed_users AS (
    SELECT
        CASE
            WHEN sessions < 2 THEN 1
            WHEN sessions < 4 THEN 2
            WHEN sessions < 8 THEN 4
            WHEN sessions < 16 THEN 8
            WHEN sessions < 32 THEN 16
            WHEN sessions < 64 THEN 32
            WHEN sessions < 128 THEN 64
            WHEN sessions < 256 THEN 128
            ELSE 256
        END AS from_sessions
    FROM sessions_of_users
)

SELECT
    from_sessions,
    CASE WHEN from_sessions < 256 THEN 2 * from_sessions - 1 END AS to_sessions,
    COUNT(*) AS users
FROM bucketed_users
GROUP BY from_sessions
ORDER BY from_sessions;

-- analytics/songs_per_session (connection 9)
-- How many songs a session holds: sessions per bucket of plays (1, 2-3, 4-7, ... 256+). A
-- session is a user's session_id with at least one play.
WITH plays_of_sessions AS (
    SELECT
        user_id,
        session_id,
        COUNT(*) AS plays
    FROM songplay
    GROUP BY user_id, session_id
),

-- Buckets double in width: each starts at a power of two and ends before the next.
bucketed_sessions AS (
    SELECT
        CASE
            WHEN plays < 2 THEN 1
            WHEN plays < 4 THEN 2
            WHEN plays < 8 THEN 4
            WHEN plays < 16 THEN 8
            WHEN plays < 32 THEN 16
            WHEN plays < 64 THEN 32
            WHEN plays < 128 THEN 64
            WHEN plays < 256 THEN 128
            ELSE 256
        END AS from_plays
    FROM plays_of_sessions
)

SELECT
    from_plays,
    CASE WHEN from_plays < 256 THEN 2 * from_plays - 1 END AS to_plays,
    COUNT(*) AS sessions
FROM bucketed_sessions
GROUP BY from_plays
ORDER BY from_plays;

-- analytics/plays_by_location (connection 9)
-- The ten locations with the most plays (the location the event gave); plays without one
-- count as one more location, NULL. Ties by name.
SELECT
    location,
    COUNT(*) AS plays
FROM songplay
GROUP BY location
ORDER BY plays DESC, location NULLS LAST
LIMIT 10;

-- analytics/matched_share (connection 9)
-- How many plays were matched to a song, of all plays, and their share.
WITH play_counts AS (
    SELECT
        COUNT(song_id) AS matched_plays,
        COUNT(*) AS plays
    FROM songplay
)

SELECT
    matched_plays,
    plays,
    CAST(matched_plays AS DOUBLE PRECISION) / NULLIF(plays, 0) AS share_matched
FROM play_counts;

-- analytics/top_unmatched_titles (connection 9)
-- The ten titles played most that match no song, with the artist the event named: what the
-- song catalogue lacks.
SELECT
    song_title AS title,
    artist_name,
    COUNT(*) AS plays
FROM songplay
WHERE song_id IS NULL
GROUP BY song_title, artist_name
ORDER BY plays DESC, title NULLS LAST, artist_name NULLS LAST
LIMIT 10;

COMMIT; -- connection 9

-- ---- end of the work beside it ----

-- session/search_path (connection 10)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 10

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "staging_events";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "staging_songs";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "songplay";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "users";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "song";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "artist";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "time";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "user_level_history";

-- report/row_count (connection 10)
SELECT COUNT(*) FROM "load_errors";

COMMIT; -- connection 10

-- session/search_path (connection 11)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 11

-- analytics/matched_share (connection 11)
-- How many plays were matched to a song, of all plays, and their share.
WITH play_counts AS (
    SELECT
        COUNT(song_id) AS matched_plays,
        COUNT(*) AS plays
    FROM songplay
)

SELECT
    matched_plays,
    plays,
    CAST(matched_plays AS DOUBLE PRECISION) / NULLIF(plays, 0) AS share_matched
FROM play_counts;

COMMIT; -- connection 11

-- session/search_path (connection 12)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 12

-- oddities/pages_like_next_song (connection 12)
-- The staged events whose page is NextSong but for case or blanks ('nextsong', ' NextSong',
-- 'Next Song'): staged as they are, and not plays, as a play is page = 'NextSong' exactly
-- (staged_user_events). Trailing blanks were dropped at staging: 'NextSong ' is a play.
SELECT COUNT(*)
FROM staging_events
WHERE page <> 'NextSong'
  AND UPPER(REPLACE(page, ' ', '')) = 'NEXTSONG';

-- oddities/unmatched_plays_beyond_ascii (connection 12)
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
GROUP BY song, artist;

-- oddities/song_names_beyond_ascii (connection 12)
-- The kept songs' titles and artist names with a character beyond ASCII (more bytes than
-- characters): what sparkify/oddities.py compares the unmatched plays with, in NFC.
SELECT DISTINCT
    title,
    artist_name
FROM song_records
WHERE OCTET_LENGTH(title) > LENGTH(title)
   OR OCTET_LENGTH(artist_name) > LENGTH(artist_name);

COMMIT; -- connection 12

-- report: the page is rendered but not saved to .sparkify/report/index.html on a dry run

-- end of the dry run: nothing was executed
