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
FROM {source}
IAM_ROLE {role_arn}
FORMAT AS JSON {jsonpaths}
{manifest}
{compression}
REGION {region}
COMPUPDATE OFF
STATUPDATE OFF
MAXERROR {max_errors}
