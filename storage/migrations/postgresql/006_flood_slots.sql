-- 006: Telegram's flood budget shared by the replicas of one PostgreSQL database (issue #20).
-- One row per message slot handed out: scope 0 is the whole bot (one slot per 1/29 s), a group's
-- chat id its own scope (one slot per 3.5 s). A slot can be taken once (the primary key), so no
-- two replicas ever send in the same one; rows older than a few minutes are pruned. With SQLite
-- (one process) the limiter keeps its budget in memory and this table stays empty.
CREATE TABLE flood_slots (
    scope BIGINT NOT NULL,
    slot  BIGINT NOT NULL,
    at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, slot)
);
