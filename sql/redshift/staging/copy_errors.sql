-- Records rejected by the latest COPY of one session. Each staging load runs on its own
-- connection, so the loading session's process id identifies its COPY. SYS_LOAD_ERROR_DETAIL
-- also covers loads run on concurrency-scaling clusters, but keeps no raw text.
WITH session_errors AS (
    SELECT
        query_id,
        file_name,
        line_number,
        column_name,
        error_message
    FROM sys_load_error_detail
    WHERE session_id = {session_id}
),

latest_copy AS (
    SELECT MAX(query_id) AS query_id
    FROM session_errors
)

SELECT
    TRIM(session_errors.file_name) AS source_key,
    session_errors.line_number,
    TRIM(session_errors.column_name) AS column_name,
    TRIM(session_errors.error_message) AS reason,
    CAST(NULL AS VARCHAR(1024)) AS raw_text
FROM session_errors
INNER JOIN latest_copy
    ON latest_copy.query_id = session_errors.query_id
ORDER BY source_key, session_errors.line_number
