-- Rows loaded by this session's latest COPY, and its query id (the key of stl_load_errors).
SELECT
    PG_LAST_COPY_COUNT() AS rows_loaded,
    PG_LAST_COPY_ID() AS copy_query_id
