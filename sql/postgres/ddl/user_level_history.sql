-- One row per user and period on a level; valid_to is NULL while the period is current.
CREATE TABLE IF NOT EXISTS user_level_history (
    user_id    TEXT NOT NULL,
    level      TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_to   TIMESTAMP,
    PRIMARY KEY (user_id, valid_from)
);
