-- 008: the library (issue #26): every delivered song a user keeps, beyond job retention, and the
-- real title of each song (#25.12). A song row is written when the song is delivered and lives
-- until its owner deletes it; retention prunes `jobs`, never `songs` (no foreign key to jobs).

ALTER TABLE jobs ADD COLUMN title TEXT;

CREATE TABLE songs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The job that made it (NULL once retention pruned the job; no foreign key on purpose).
    job_id         INTEGER UNIQUE,
    owner_id       INTEGER NOT NULL,
    owner_name     TEXT NOT NULL DEFAULT '',
    chat_id        INTEGER NOT NULL,
    chat_type      TEXT NOT NULL,
    title          TEXT NOT NULL,
    style          TEXT NOT NULL DEFAULT '',
    lyrics         TEXT,
    model          TEXT NOT NULL,
    duration       REAL,
    file_id        TEXT NOT NULL,
    file_unique_id TEXT,
    -- The secret of its t.me/<bot>?start=<token> link; NULL: not shared (or sharing stopped).
    share_token    TEXT UNIQUE,
    plays          INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX songs_owner_created ON songs (owner_id, created_at);
CREATE INDEX songs_chat_created ON songs (chat_id, created_at);

-- ✏️ Rename: the user's next private text is the song's new name (one pending rename per user).
CREATE TABLE song_renames (
    user_id    INTEGER PRIMARY KEY,
    song_id    INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
