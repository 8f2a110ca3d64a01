-- Fallback when SYS_LOAD_ERROR_DETAIL is missing or empty: the records one COPY rejected, by
-- its query id (PG_LAST_COPY_ID() of the loading session); raw_line keeps the start of each.
SELECT
    TRIM(filename) AS source_key,
    line_number,
    TRIM(colname) AS column_name,
    TRIM(err_reason) AS reason,
    TRIM(raw_line) AS raw_text
FROM stl_load_errors
WHERE query = {copy_query_id}
ORDER BY source_key, line_number
