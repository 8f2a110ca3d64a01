-- Whether a checked table exists (information_schema: the same on both engines).
SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :schema AND table_name = :table
