-- Which of the named tables the schema holds (information_schema: the same on both engines).
SELECT table_name
FROM information_schema.tables
WHERE table_schema = %s
  AND table_name IN %s
