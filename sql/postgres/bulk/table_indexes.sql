-- The indexes of a table, as one statement that drops them all and one that builds them again
-- from their definitions in the catalog (as sql/postgres/ddl/ made them). A primary key or
-- unique constraint is dropped and added back as a constraint: its index alone cannot be.
WITH table_indexes AS (
    SELECT
        indexes.indexrelid,
        CASE
            WHEN constraints.conname IS NULL
                THEN format('DROP INDEX %s', indexes.indexrelid::regclass)
            ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', indexes.indrelid::regclass,
                        constraints.conname)
        END AS drop_statement,
        CASE
            WHEN constraints.conname IS NULL
                THEN pg_get_indexdef(indexes.indexrelid)
            ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', indexes.indrelid::regclass,
                        constraints.conname, pg_get_constraintdef(constraints.oid))
        END AS build_statement
    FROM pg_index AS indexes
    LEFT JOIN pg_constraint AS constraints
        ON constraints.conindid = indexes.indexrelid
       AND constraints.contype IN ('p', 'u')
    WHERE indexes.indrelid = {table_literal}::regclass
)

SELECT
    string_agg(drop_statement, '; ' ORDER BY indexrelid) AS drop_statements,
    string_agg(build_statement, '; ' ORDER BY indexrelid) AS build_statements
FROM table_indexes
