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
FROM {source}
IAM_ROLE {role_arn}
FORMAT AS JSON 'auto ignorecase'
{manifest}
{compression}
REGION {region}
COMPUPDATE OFF
STATUPDATE OFF
MAXERROR {max_errors}
