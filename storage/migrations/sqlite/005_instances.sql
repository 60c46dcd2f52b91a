-- 005: the processes working this database (issue #20). Each `songbot run` registers a row and
-- beats every few seconds; a job leased by an instance whose heartbeat went stale is taken over
-- at once (storage/instances.py), not when its lease runs out. With SQLite there is one.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    -- 'poller' (the one process calling getUpdates) or 'worker'.
    role         TEXT NOT NULL DEFAULT 'worker',
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
