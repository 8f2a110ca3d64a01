-- Blanks around a userId are dropped on every engine: " 7 " is user "7", an id being its
-- characters, not its padding (Redshift ignores trailing blanks in comparisons anyway:
-- staging/trim_staging_events); a userId of blanks only becomes empty, no user. The rows it
-- changes are counted in the run's warnings (sparkify/oddities.py). LIKE sees trailing blanks on
-- both engines, where = would ignore them on Redshift ("LIKE and ILIKE predicates do not
-- implicitly ignore trailing spaces":
-- https://docs.aws.amazon.com/redshift/latest/dg/r_patternmatching_condition_like.html; BTRIM:
-- https://docs.aws.amazon.com/redshift/latest/dg/r_BTRIM.html).
UPDATE staging_events
SET user_id = BTRIM(user_id)
WHERE user_id LIKE ' %' OR user_id LIKE '% '
