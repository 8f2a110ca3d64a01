-- DISTSTYLE ALL, sorted by user_id: a small dimension (one row per user) joined to songplay,
-- so a copy on every node makes that join local whatever songplay is distributed on.
-- Primary keys are informational on Redshift (not enforced): users_remove_restaged and
-- users keep user_id unique.
CREATE TABLE IF NOT EXISTS users (
    user_id    VARCHAR(256) NOT NULL,
    first_name VARCHAR(256),
    last_name  VARCHAR(256),
    gender     VARCHAR(256),
    level      VARCHAR(256),
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (user_id)
