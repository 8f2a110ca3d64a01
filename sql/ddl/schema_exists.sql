-- Whether the pipeline's schema exists (CREATE SCHEMA only runs when it does not).
SELECT 1 FROM pg_namespace WHERE nspname = %s
