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
-- songplay_id: IDENTITY values are unique but not consecutive on Redshift.
CREATE TABLE IF NOT EXISTS songplay (
    songplay_id     BIGINT IDENTITY(0, 1) NOT NULL,
    start_time      TIMESTAMP NOT NULL,
    user_id         VARCHAR(256) NOT NULL,
    level           VARCHAR(256),
    song_id         VARCHAR(256),
    artist_id       VARCHAR(256),
    session_id      BIGINT,
    item_in_session BIGINT,
    location        VARCHAR(1024),
    user_agent      VARCHAR(1024),
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

-- ddl/songplay_source (connection 2)
-- What each play asked for (title, artist name, length), kept so that a song arriving in a
-- later load can still be matched to plays loaded before it.
-- One row per play, so as large as the fact. DISTKEY user_id, like play_matches: the two are
-- joined on the play key (user_id, session_key, item_key), which then runs slice-local.
-- SORTKEY on that key: the "already kept?" lookups of each load read narrow ranges.
-- Primary keys are informational on Redshift (not enforced): star/songplay_source inserts
-- only plays not kept before.
CREATE TABLE IF NOT EXISTS songplay_source (
    user_id     VARCHAR(256) NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song        VARCHAR(1024),
    artist      VARCHAR(1024),
    length      DOUBLE PRECISION,
    PRIMARY KEY (user_id, session_key, item_key)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_key, item_key);

-- ddl/user_latest_event (connection 2)
-- The event each users row was taken from, so a later load replaces it only with a later event.
-- DISTSTYLE ALL, sorted by user_id, like users: one small row per user, joined by user_id.
-- Primary keys are informational on Redshift (not enforced): the transforms keep user_id unique.
CREATE TABLE IF NOT EXISTS user_latest_event (
    user_id         VARCHAR(256) NOT NULL,
    ts              BIGINT,
    item_in_session BIGINT,
    session_id      BIGINT,
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (user_id);

-- ddl/user_level_events (connection 2)
-- Every distinct event of a user that names a level: the level history is rebuilt from all of
-- them, so it equals a full reload whatever order the days arrive in. A missing session or
-- item is kept as -1, as in songplay_source.
-- About one row per event, so as large as staging_events over all loads. DISTKEY user_id,
-- like staging_events: the "already kept?" check and the history's rebuild (window functions
-- partitioned by user) then run slice-local. COMPOUND SORTKEY (user_id, ts): both read one
-- user's events in time order.
-- Primary keys are informational on Redshift (not enforced): star/user_level_events inserts
-- only events not kept before.
CREATE TABLE IF NOT EXISTS user_level_events (
    user_id     VARCHAR(256) NOT NULL,
    ts          BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    session_key BIGINT NOT NULL,
    level       VARCHAR(256) NOT NULL,
    PRIMARY KEY (user_id, ts, item_key, session_key, level)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, ts);

-- ddl/play_matches (connection 2)
-- Scratch space of one transform: the best song for each play the current load affects.
-- DISTKEY user_id and the same sort key as songplay_source, which it is built from and
-- joined back to on the play key. Emptied by DELETE at each transform (TRUNCATE would commit).
CREATE TABLE IF NOT EXISTS play_matches (
    user_id     VARCHAR(256) NOT NULL,
    session_key BIGINT NOT NULL,
    item_key    BIGINT NOT NULL,
    song_id     VARCHAR(256),
    PRIMARY KEY (user_id, session_key, item_key)
)
DISTKEY (user_id)
COMPOUND SORTKEY (user_id, session_key, item_key);

COMMIT; -- connection 2

-- session/search_path (connection 3)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 3

-- ledger/loaded_objects (connection 3)
SELECT source_key, etag FROM load_ledger;

COMMIT; -- connection 3

-- ---- side by side (1 of 2, thread 'stage staging_events'): runs at the same time as the other block(s), each in its own session ----

-- session/search_path (connection 4)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 4

-- staging/clear_staging_events (connection 4)
-- DELETE, not TRUNCATE: Redshift's TRUNCATE commits the open transaction, so a failed COPY
-- could no longer be rolled back to the previous staging rows. Redshift's automatic
-- VACUUM DELETE reclaims the deleted blocks in the background.
DELETE FROM staging_events;

-- staging/copy_staging_events (connection 4)
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
-- statistics after the load. MAXERROR is --max-errors: more bad records fail the whole COPY.
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

-- staging/last_copy (connection 4)
-- Rows loaded by this session's latest COPY, and its query id (the key of stl_load_errors).
SELECT
    PG_LAST_COPY_COUNT() AS rows_loaded,
    PG_LAST_COPY_ID() AS copy_query_id;

-- staging/trim_staging_events (connection 4)
-- Trailing blanks dropped from every text column of staging_events, on every engine:
-- Redshift compares VARCHAR values ignoring them ("the trailing blanks ... are semantically
-- insignificant": https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html),
-- PostgreSQL does not. Kept, they would match, group and de-duplicate differently on the two
-- engines (a title 'Song ' is the play of 'Song' on Redshift only); dropped, both agree.
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
    user_agent = RTRIM(user_agent),
    user_id = RTRIM(user_id)
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
    OR RIGHT(user_id, 1) = ' ';

-- staging/canonical_user_ids (connection 4)
-- A userId written as an integral number (12.0, or "12.0") names the same user as 12: staged
-- as its integer text on both engines, so 12, 12.0 and "12" are one user.
UPDATE staging_events
SET user_id = SPLIT_PART(user_id, '.', 1)
WHERE user_id LIKE '%.0%'  -- a cheap test first: the pattern below needs '.0'
  AND user_id ~ '^[0-9]+[.]0+$';

-- staging/analyze (connection 4)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE staging_events;

COMMIT; -- connection 4

-- ---- side by side (2 of 2, thread 'stage staging_songs'): runs at the same time as the other block(s), each in its own session ----

-- session/search_path (connection 5)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 5

-- staging/clear_staging_songs (connection 5)
-- DELETE, not TRUNCATE: Redshift's TRUNCATE commits the open transaction, so a failed COPY
-- could no longer be rolled back to the previous staging rows. Redshift's automatic
-- VACUUM DELETE reclaims the deleted blocks in the background.
DELETE FROM staging_songs;

-- staging/copy_staging_songs (connection 5)
-- Server-side load from S3 with the cluster's IAM role; one song object per line.
-- FROM is a key prefix ending in '/' (a prefix matches every key that starts with it), or a
-- manifest listing exactly the keys selected for this load.
-- JSON 'auto ignorecase': keys match the column names case-insensitively (plain 'auto' is
-- case-sensitive and would load differently-cased keys as NULL).
-- GZIP, ZSTD or BZIP2 when the objects are compressed (.json.gz, .json.zst, .json.bz2): one
-- COPY per kind, each through a manifest of exactly its keys.
-- COMPUPDATE OFF STATUPDATE OFF: keep the table's encodings; staging/analyze refreshes the
-- statistics after the load. MAXERROR is --max-errors: more bad records fail the whole COPY.
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

-- staging/last_copy (connection 5)
-- Rows loaded by this session's latest COPY, and its query id (the key of stl_load_errors).
SELECT
    PG_LAST_COPY_COUNT() AS rows_loaded,
    PG_LAST_COPY_ID() AS copy_query_id;

-- staging/trim_staging_songs (connection 5)
-- Trailing blanks dropped from every text column of staging_songs, on every engine:
-- Redshift compares VARCHAR values ignoring them ("the trailing blanks ... are semantically
-- insignificant": https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html),
-- PostgreSQL does not. Kept, they would match, group and de-duplicate differently on the two
-- engines (a title 'Song ' is the play of 'Song' on Redshift only); dropped, both agree.
UPDATE staging_songs
SET
    artist_id = RTRIM(artist_id),
    artist_location = RTRIM(artist_location),
    artist_name = RTRIM(artist_name),
    song_id = RTRIM(song_id),
    title = RTRIM(title)
WHERE
    RIGHT(artist_id, 1) = ' '
    OR RIGHT(artist_location, 1) = ' '
    OR RIGHT(artist_name, 1) = ' '
    OR RIGHT(song_id, 1) = ' '
    OR RIGHT(title, 1) = ' ';

-- staging/analyze (connection 5)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE staging_songs;

COMMIT; -- connection 5

-- ---- end of the work side by side ----

-- session/search_path (connection 6)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 6

-- staging/clear_load_errors (connection 6)
DELETE FROM load_errors WHERE table_name = 'staging_events';

-- staging/clear_load_errors (connection 6)
DELETE FROM load_errors WHERE table_name = 'staging_songs';

COMMIT; -- connection 6

-- session/search_path (connection 7)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 7

-- star/song_records (connection 7)
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

-- star/song_records_analyze (connection 7)
-- Filled just now and read by star/play_matches: without statistics, a first load's planner
-- guessed 6,105 rows twice as wide and sorted 792,768 plays for a merge join (2.1 s where
-- the hash join takes 1.2 s at 1M events).
ANALYZE song_records;

-- star/artist_remove_restaged (connection 7)
-- Artists staged now are rebuilt below from all their kept records.
DELETE FROM artist
WHERE artist_id IN (
    SELECT artist_id
    FROM staging_songs
    WHERE NULLIF(artist_id, '') IS NOT NULL
);

-- star/artist (connection 7)
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

-- star/song_remove_restaged (connection 7)
-- Songs staged now are rebuilt below from all their kept records.
DELETE FROM song
WHERE song_id IN (
    SELECT song_id
    FROM staging_songs
    WHERE NULLIF(song_id, '') IS NOT NULL
);

-- star/song (connection 7)
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

-- star/newer_user_events (connection 7)
-- Each staged user's latest event, when it is later than the one their users row came from.
-- Built once, before the users steps change user_latest_event; a temporary table of the
-- transform's session.
CREATE TEMPORARY TABLE newer_user_events AS
WITH user_events AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        ts,
        NULLIF(first_name, '') AS first_name,
        NULLIF(last_name, '') AS last_name,
        NULLIF(gender, '') AS gender,
        NULLIF(level, '') AS level
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
),

-- Every event counts, not only plays: a user's details and level are those of their latest
-- event (by ts, then itemInSession), so a user who upgrades shows 'paid'.
events_by_recency AS (
    SELECT
        user_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id
            ORDER BY ts DESC NULLS LAST,
                     item_in_session DESC NULLS LAST,
                     session_id DESC NULLS LAST,
                     level DESC NULLS LAST,
                     first_name, last_name, gender
        ) AS recency
    FROM user_events
),

latest_staged AS (
    SELECT *
    FROM events_by_recency
    WHERE recency = 1
)

SELECT
    latest_staged.user_id,
    latest_staged.first_name,
    latest_staged.last_name,
    latest_staged.gender,
    latest_staged.level,
    latest_staged.ts,
    latest_staged.item_in_session,
    latest_staged.session_id
FROM latest_staged
LEFT JOIN user_latest_event AS loaded
    ON loaded.user_id = latest_staged.user_id
WHERE loaded.user_id IS NULL
   OR COALESCE(latest_staged.ts, -1) > COALESCE(loaded.ts, -1)
   OR (COALESCE(latest_staged.ts, -1) = COALESCE(loaded.ts, -1)
       AND COALESCE(latest_staged.item_in_session, -1) >= COALESCE(loaded.item_in_session, -1));

-- star/newer_user_events_analyze (connection 7)
-- Temporary tables get no automatic statistics; the users steps join it next.
ANALYZE newer_user_events;

-- star/users_remove_superseded (connection 7)
-- Users with a later event in this load are rebuilt below from it.
DELETE FROM users
USING newer_user_events
WHERE users.user_id = newer_user_events.user_id;

-- star/users (connection 7)
INSERT INTO users (user_id, first_name, last_name, gender, level)
SELECT
    user_id,
    first_name,
    last_name,
    gender,
    level
FROM newer_user_events;

-- star/user_latest_event_remove_superseded (connection 7)
DELETE FROM user_latest_event
USING newer_user_events
WHERE user_latest_event.user_id = newer_user_events.user_id;

-- star/user_latest_event (connection 7)
INSERT INTO user_latest_event (user_id, ts, item_in_session, session_id)
SELECT
    user_id,
    ts,
    item_in_session,
    session_id
FROM newer_user_events;

-- star/user_level_events (connection 7)
-- Keep every distinct event of a staged user that names a level, unless already kept. In key
-- order: the primary key's index then grows at its end, which at 1M events took 2.3-3.8 s
-- where the hash order of the DISTINCT took 5.4-7.1 s, and the level history reads the table
-- in that order.
INSERT INTO user_level_events (user_id, ts, item_key, session_key, level)
WITH staged_level_events AS (
    SELECT DISTINCT
        user_id,
        ts,
        COALESCE(item_in_session, -1) AS item_key,
        COALESCE(session_id, -1) AS session_key,
        level
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
      AND ts IS NOT NULL
      AND NULLIF(level, '') IS NOT NULL
)

SELECT
    staged_level_events.user_id,
    staged_level_events.ts,
    staged_level_events.item_key,
    staged_level_events.session_key,
    staged_level_events.level
FROM staged_level_events
WHERE NOT EXISTS (
    SELECT 1
    FROM user_level_events AS kept
    WHERE kept.user_id = staged_level_events.user_id
      AND kept.ts = staged_level_events.ts
      AND kept.item_key = staged_level_events.item_key
      AND kept.session_key = staged_level_events.session_key
      AND kept.level = staged_level_events.level
)
ORDER BY
    staged_level_events.user_id,
    staged_level_events.ts,
    staged_level_events.item_key,
    staged_level_events.session_key,
    staged_level_events.level;

-- star/user_level_events_analyze (connection 7)
-- Filled just above in this transaction (no automatic ANALYZE sees it); the level history
-- reads it next.
ANALYZE user_level_events;

-- star/user_level_history_remove_restaged (connection 7)
-- The level history of every user staged now is rebuilt below from all their kept events.
DELETE FROM user_level_history
WHERE user_id IN (
    SELECT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
);

-- star/user_level_history (connection 7)
-- The periods on a level of every user staged now, from all their kept events in ts order.
INSERT INTO user_level_history (user_id, level, valid_from, valid_to)
WITH restaged_users AS (
    SELECT DISTINCT user_id
    FROM staging_events
    WHERE NULLIF(user_id, '') IS NOT NULL
),

restaged_level_events AS (
    SELECT
        kept.user_id,
        kept.ts,
        kept.item_key,
        kept.session_key,
        kept.level
    FROM user_level_events AS kept
    INNER JOIN restaged_users
        ON restaged_users.user_id = kept.user_id
),

-- Several events in one millisecond: the level at that instant is that of the last of them
-- (by itemInSession, then sessionId, then level), the order users takes the latest event in.
events_by_lateness AS (
    SELECT
        restaged_level_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, ts
            ORDER BY item_key DESC, session_key DESC, level DESC
        ) AS lateness
    FROM restaged_level_events
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

-- star/staged_plays (connection 7)
-- The distinct plays of the current staging load, built once per transform (three statements
-- read it). A temporary table: it lives as long as the transform's session.
CREATE TEMPORARY TABLE staged_plays AS
WITH next_song_events AS (
    SELECT
        user_id,
        session_id,
        item_in_session,
        COALESCE(session_id, -1) AS session_key,
        COALESCE(item_in_session, -1) AS item_key,
        ts,
        song,
        artist,
        length,
        NULLIF(level, '') AS level,
        NULLIF(location, '') AS location,
        NULLIF(user_agent, '') AS user_agent
    FROM staging_events
    WHERE page = 'NextSong'
      AND NULLIF(user_id, '') IS NOT NULL
),

-- A play is identified by (user_id, session_id, item_in_session): an event staged twice is
-- one play, its earliest copy (then the smallest content, so the pick never depends on load
-- order; star/earlier_copies.sql applies the same order across loads). The -1 keys let plays
-- with a missing session or item still compare equal.
numbered_events AS (
    SELECT
        next_song_events.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, session_key, item_key
            ORDER BY ts, song, artist, length, level, location, user_agent
        ) AS copy_number
    FROM next_song_events
)

SELECT
    TIMESTAMP 'epoch' + ts / 1000.0 * INTERVAL '1 second' AS start_time,
    user_id,
    session_id,
    item_in_session,
    session_key,
    item_key,
    song,
    artist,
    length,
    level,
    location,
    user_agent
FROM numbered_events
WHERE copy_number = 1;

-- star/staged_plays_analyze (connection 7)
-- Temporary tables get no automatic statistics; the plays' joins need them to plan well.
ANALYZE staged_plays;

-- star/earlier_copies (connection 7)
-- Plays loaded before that this load holds a copy of which sorts first (by the order that
-- picks one copy of a play within a load, in staged_plays). A full reload would keep that
-- copy, so the play takes its content: the same play in two objects ends the same whichever
-- object is loaded first. A tie keeps what was loaded.
CREATE TEMPORARY TABLE earlier_copies AS
WITH kept_copies AS (
    SELECT
        staged_plays.user_id,
        staged_plays.session_key,
        staged_plays.item_key,
        songplay.start_time,
        kept.song,
        kept.artist,
        kept.length,
        songplay.level,
        songplay.location,
        songplay.user_agent,
        0 AS is_staged
    FROM staged_plays
    INNER JOIN songplay
        ON songplay.user_id = staged_plays.user_id
       AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
       AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    INNER JOIN songplay_source AS kept
        ON kept.user_id = staged_plays.user_id
       AND kept.session_key = staged_plays.session_key
       AND kept.item_key = staged_plays.item_key
),

both_copies AS (
    SELECT * FROM kept_copies

    UNION ALL

    SELECT
        staged_plays.user_id,
        staged_plays.session_key,
        staged_plays.item_key,
        staged_plays.start_time,
        staged_plays.song,
        staged_plays.artist,
        staged_plays.length,
        staged_plays.level,
        staged_plays.location,
        staged_plays.user_agent,
        1 AS is_staged
    FROM staged_plays
    INNER JOIN kept_copies
        ON kept_copies.user_id = staged_plays.user_id
       AND kept_copies.session_key = staged_plays.session_key
       AND kept_copies.item_key = staged_plays.item_key
),

ranked_copies AS (
    SELECT
        both_copies.*,
        ROW_NUMBER() OVER (
            PARTITION BY user_id, session_key, item_key
            ORDER BY start_time, song, artist, length, level, location, user_agent, is_staged
        ) AS copy_rank
    FROM both_copies
)

SELECT
    ranked_copies.user_id,
    ranked_copies.session_key,
    ranked_copies.item_key,
    ranked_copies.start_time,
    ranked_copies.song,
    ranked_copies.artist,
    ranked_copies.length,
    ranked_copies.level,
    ranked_copies.location,
    ranked_copies.user_agent,
    kept_copies.start_time AS replaced_start_time
FROM ranked_copies
INNER JOIN kept_copies
    ON kept_copies.user_id = ranked_copies.user_id
   AND kept_copies.session_key = ranked_copies.session_key
   AND kept_copies.item_key = ranked_copies.item_key
WHERE ranked_copies.copy_rank = 1
  AND ranked_copies.is_staged = 1;

-- star/earlier_copies_analyze (connection 7)
-- Temporary tables get no automatic statistics; three statements join it next.
ANALYZE earlier_copies;

-- star/songplay_source_earlier (connection 7)
-- What a play asked for follows its earliest copy (so its song match does too).
UPDATE songplay_source
SET song = earlier_copies.song,
    artist = earlier_copies.artist,
    length = earlier_copies.length
FROM earlier_copies
WHERE songplay_source.user_id = earlier_copies.user_id
  AND songplay_source.session_key = earlier_copies.session_key
  AND songplay_source.item_key = earlier_copies.item_key;

-- star/songplay_earlier (connection 7)
-- A play keeps its songplay_id and takes its earliest copy's time and details.
UPDATE songplay
SET start_time = earlier_copies.start_time,
    level = earlier_copies.level,
    location = earlier_copies.location,
    user_agent = earlier_copies.user_agent
FROM earlier_copies
WHERE songplay.user_id = earlier_copies.user_id
  AND COALESCE(songplay.session_id, -1) = earlier_copies.session_key
  AND COALESCE(songplay.item_in_session, -1) = earlier_copies.item_key;

-- star/songplay_source (connection 7)
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
);

-- star/songplay_source_analyze (connection 7)
-- Filled just above in this transaction, where no automatic ANALYZE can see it: without
-- statistics the planner expects a few dozen plays where it reads every play of the load.
ANALYZE songplay_source;

-- star/play_matches_clear (connection 7)
DELETE FROM play_matches;

-- star/play_matches (connection 7)
-- The best song for every play this load can affect: its new plays, the plays loaded before
-- that it stages again, and earlier plays whose title and artist name match a song staged now.
-- Until star/songplay below, songplay holds exactly the plays loaded before (songplay_source
-- gets the same plays in the same transactions).
INSERT INTO play_matches (user_id, session_key, item_key, song_id)
WITH affected_plays AS (
    -- New plays ask for what staged_plays holds (star/songplay_source kept the same).
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
        FROM songplay
        WHERE songplay.user_id = staged_plays.user_id
          AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
          AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    )

    -- the three parts never share a play, so no UNION has to deduplicate them
    UNION ALL

    -- Plays loaded before and staged again ask for what their earliest copy asked for, as
    -- songplay_source keeps it (star/songplay_source_earlier). None on a first load.
    SELECT
        songplay_source.user_id,
        songplay_source.session_key,
        songplay_source.item_key,
        songplay_source.song,
        songplay_source.artist,
        songplay_source.length
    FROM songplay_source
    WHERE EXISTS (SELECT 1 FROM songplay)
      AND EXISTS (
        SELECT 1
        FROM staged_plays
        WHERE staged_plays.user_id = songplay_source.user_id
          AND staged_plays.session_key = songplay_source.session_key
          AND staged_plays.item_key = songplay_source.item_key
    )
      AND EXISTS (
        SELECT 1
        FROM songplay
        WHERE songplay.user_id = songplay_source.user_id
          AND COALESCE(songplay.session_id, -1) = songplay_source.session_key
          AND COALESCE(songplay.item_in_session, -1) = songplay_source.item_key
    )

    UNION ALL

    -- Earlier plays not staged again whose title and artist a staged song has. None on a
    -- first load.
    SELECT
        songplay_source.user_id,
        songplay_source.session_key,
        songplay_source.item_key,
        songplay_source.song,
        songplay_source.artist,
        songplay_source.length
    FROM songplay_source
    INNER JOIN (SELECT DISTINCT title, artist_name FROM staging_songs) AS staged_titles
        ON staged_titles.title = songplay_source.song
       AND staged_titles.artist_name = songplay_source.artist
    WHERE EXISTS (SELECT 1 FROM songplay)
      AND NOT EXISTS (
        SELECT 1
        FROM staged_plays
        WHERE staged_plays.user_id = songplay_source.user_id
          AND staged_plays.session_key = songplay_source.session_key
          AND staged_plays.item_key = songplay_source.item_key
    )
),

-- Every kept song with the play's exact title and artist name, or one row without a song when
-- none has them. When several match, the one whose duration is closest to the played length
-- wins, then the smallest song_id.
ranked_candidates AS (
    SELECT
        affected_plays.user_id,
        affected_plays.session_key,
        affected_plays.item_key,
        song_records.song_id,
        ROW_NUMBER() OVER (
            PARTITION BY affected_plays.user_id, affected_plays.session_key, affected_plays.item_key
            ORDER BY ABS(song_records.duration - affected_plays.length) NULLS LAST,
                     song_records.song_id
        ) AS closeness
    FROM affected_plays
    LEFT JOIN song_records
        ON song_records.title = affected_plays.song
       AND song_records.artist_name = affected_plays.artist
)

SELECT
    user_id,
    session_key,
    item_key,
    song_id
FROM ranked_candidates
WHERE closeness = 1;

-- star/play_matches_analyze (connection 7)
-- Filled just above in this transaction (no automatic ANALYZE sees it); the rematch and
-- songplay join it next.
ANALYZE play_matches;

-- star/songplay_rematch (connection 7)
-- Plays already in songplay keep their songplay_id; only their song match follows the songs
-- known now (a song that arrives late fills the plays that referenced it). The song join sits
-- in a derived table: Redshift refuses an outer join beside the UPDATE's target.
UPDATE songplay
SET song_id = rematched.song_id,
    artist_id = rematched.artist_id
FROM (
    SELECT
        play_matches.user_id,
        play_matches.session_key,
        play_matches.item_key,
        play_matches.song_id,
        song.artist_id
    FROM play_matches
    LEFT JOIN song
        ON song.song_id = play_matches.song_id
) AS rematched
WHERE songplay.user_id = rematched.user_id
  AND COALESCE(songplay.session_id, -1) = rematched.session_key
  AND COALESCE(songplay.item_in_session, -1) = rematched.item_key
  AND (COALESCE(songplay.song_id, '') <> COALESCE(rematched.song_id, '')
       OR COALESCE(songplay.artist_id, '') <> COALESCE(rematched.artist_id, ''));

-- star/songplay (connection 7)
-- Only plays not loaded before: a rerun adds nothing and keeps every songplay_id.
INSERT INTO songplay (
    start_time, user_id, level, song_id, artist_id,
    session_id, item_in_session, location, user_agent
)
WITH new_plays AS (
    SELECT staged_plays.*
    FROM staged_plays
    WHERE NOT EXISTS (
        SELECT 1
        FROM songplay
        WHERE songplay.user_id = staged_plays.user_id
          AND COALESCE(songplay.session_id, -1) = staged_plays.session_key
          AND COALESCE(songplay.item_in_session, -1) = staged_plays.item_key
    )
)

SELECT
    new_plays.start_time,
    new_plays.user_id,
    new_plays.level,
    play_matches.song_id,
    song.artist_id,
    new_plays.session_id,
    new_plays.item_in_session,
    new_plays.location,
    new_plays.user_agent
FROM new_plays
LEFT JOIN play_matches
    ON play_matches.user_id = new_plays.user_id
   AND play_matches.session_key = new_plays.session_key
   AND play_matches.item_key = new_plays.item_key
LEFT JOIN song
    ON song.song_id = play_matches.song_id
ORDER BY new_plays.start_time, new_plays.user_id, new_plays.session_key, new_plays.item_key;

-- star/songplay_analyze (connection 7)
-- Filled just now and read by star/time: without statistics, a first load's planner expected
-- 200 distinct start times and spilled its hash aggregate to disk (2.6 s where reading the
-- start_time index in order takes 1.5 s at 1M events).
ANALYZE songplay;

-- star/time_remove_unused (connection 7)
-- time holds one row per start_time of songplay: a time a play left for an earlier copy goes
-- when no other play has it.
DELETE FROM time
WHERE start_time IN (SELECT replaced_start_time FROM earlier_copies)
  AND NOT EXISTS (SELECT 1 FROM songplay WHERE songplay.start_time = time.start_time);

-- star/time (connection 7)
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
WITH play_times AS (
    SELECT DISTINCT start_time
    FROM songplay
),

new_play_times AS (
    SELECT play_times.start_time
    FROM play_times
    WHERE NOT EXISTS (
        SELECT 1 FROM time WHERE time.start_time = play_times.start_time
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
FROM new_play_times;

-- ledger/forget_objects (connection 7; parameters: 5 values)
-- Objects loaded again (changed since their last load) replace their ledger rows.
DELETE FROM load_ledger WHERE source_key IN %s;

-- ledger/record_objects (connection 7; parameters: 5 rows)
INSERT INTO load_ledger (source_key, etag, size, rows, run_id, loaded_at) VALUES %s;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE songplay;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE users;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE song;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE artist;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE time;

-- staging/analyze (connection 7)
-- The COPYs run with STATUPDATE OFF: statistics are refreshed once, after the load.
ANALYZE user_level_history;

-- ---- beside the transaction above, on another thread ----

-- check staging: the Great Expectations checkpoint 'staging', 17 expectations on staging_events, staging_songs (read-only queries GX generates; not run on a dry run)

-- ---- end of the work beside it ----

COMMIT; -- connection 7

-- check warehouse: the Great Expectations checkpoint 'warehouse', 48 expectations on songplay, users, song, artist, time, user_level_history (read-only queries GX generates; not run on a dry run)

-- ---- beside the transaction above, on another thread ----

-- session/search_path (connection 8)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 8

-- analytics/time_range (connection 8)
-- The time the plays cover: first and last play, and the days with at least one play.
SELECT
    MIN(start_time) AS first_play_at,
    MAX(start_time) AS last_play_at,
    COUNT(DISTINCT CAST(start_time AS DATE)) AS days_with_plays
FROM songplay;

-- analytics/plays_by_hour (connection 8)
-- Plays per hour of the day (UTC); hours without plays are absent.
SELECT
    time.hour,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.hour
ORDER BY time.hour;

-- analytics/plays_by_weekday (connection 8)
-- Plays per day of the week (0 = Sunday, UTC); weekdays without plays are absent.
SELECT
    time.weekday,
    COUNT(*) AS plays
FROM songplay
INNER JOIN time
    ON time.start_time = songplay.start_time
GROUP BY time.weekday
ORDER BY time.weekday;

-- analytics/plays_per_day (connection 8)
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

-- analytics/top_songs (connection 8)
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

-- analytics/top_artists (connection 8)
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

-- analytics/free_vs_paid (connection 8)
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

-- analytics/level_changes_per_day (connection 8)
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

-- analytics/sessions_per_user (connection 8)
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

-- analytics/songs_per_session (connection 8)
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

-- analytics/plays_by_location (connection 8)
-- The ten locations with the most plays (the location the event gave); plays without one
-- count as one more location, NULL. Ties by name.
SELECT
    location,
    COUNT(*) AS plays
FROM songplay
GROUP BY location
ORDER BY plays DESC, location NULLS LAST
LIMIT 10;

-- analytics/matched_share (connection 8)
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

-- analytics/top_unmatched_titles (connection 8)
-- The ten titles played most that match no song, with the artist the event named: what the
-- song catalogue lacks. songplay_source keeps what each play asked for.
WITH unmatched_plays AS (
    SELECT
        songplay_source.song AS title,
        songplay_source.artist AS artist_name
    FROM songplay
    INNER JOIN songplay_source
        ON songplay_source.user_id = songplay.user_id
       AND songplay_source.session_key = COALESCE(songplay.session_id, -1)
       AND songplay_source.item_key = COALESCE(songplay.item_in_session, -1)
    WHERE songplay.song_id IS NULL
)

SELECT
    title,
    artist_name,
    COUNT(*) AS plays
FROM unmatched_plays
GROUP BY title, artist_name
ORDER BY plays DESC, title NULLS LAST, artist_name NULLS LAST
LIMIT 10;

COMMIT; -- connection 8

-- ---- end of the work beside it ----

-- session/search_path (connection 9)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 9

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "staging_events";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "staging_songs";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "songplay";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "users";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "song";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "artist";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "time";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "user_level_history";

-- report/row_count (connection 9)
SELECT COUNT(*) FROM "load_errors";

COMMIT; -- connection 9

-- session/search_path (connection 10)
-- Every connection first names the schema that holds the pipeline's tables.
SET search_path TO "public";

COMMIT; -- connection 10

-- analytics/matched_share (connection 10)
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

COMMIT; -- connection 10

-- report: the page is rendered but not saved to .sparkify/report/index.html on a dry run

-- end of the dry run: nothing was executed
