-- Records rejected by one COPY: the loading session's, with the query id PG_LAST_COPY_ID()
-- gave for it (SYS_LOAD_DETAIL's documented example joins query_id to PG_LAST_COPY_ID() the
-- same way: https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_DETAIL.html). The session
-- alone is not enough: an earlier COPY of the same session (another compression kind) may
-- have had errors of its own. SYS_LOAD_ERROR_DETAIL also covers loads run on
-- concurrency-scaling clusters, but keeps no raw text.
SELECT
    TRIM(file_name) AS source_key,
    line_number,
    TRIM(column_name) AS column_name,
    TRIM(error_message) AS reason,
    CAST(NULL AS VARCHAR(1024)) AS raw_text
FROM sys_load_error_detail
WHERE session_id = {session_id}
    AND query_id = {copy_query_id}
ORDER BY source_key, line_number
