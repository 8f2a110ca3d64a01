-- One row per distinct songplay.start_time, so about as large as the fact itself.
-- DISTKEY and SORTKEY start_time, like songplay: the two are joined on start_time, which then
-- runs slice-local as a merge join, and time-range filters skip blocks.
-- Primary keys are informational on Redshift (not enforced): star/time inserts new times only.
CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL,
    hour       SMALLINT NOT NULL,
    day        SMALLINT NOT NULL,
    week       SMALLINT NOT NULL,
    month      SMALLINT NOT NULL,
    year       SMALLINT NOT NULL,
    weekday    SMALLINT NOT NULL,
    PRIMARY KEY (start_time)
)
DISTKEY (start_time)
SORTKEY (start_time)
