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
SORTKEY (source_key)
