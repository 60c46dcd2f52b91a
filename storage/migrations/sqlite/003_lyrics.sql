-- 003: /write (issue #18). A lyrics preview lives here, not in memory, so its buttons keep
-- working after a restart; every chat completion is a row, for the daily limit and the tokens
-- `songbot stats` shows.

CREATE TABLE lyrics_drafts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id             INTEGER NOT NULL,
    chat_type           TEXT NOT NULL,
    topic_id            INTEGER,
    user_id             INTEGER NOT NULL,
    user_lang           TEXT,
    -- The /write message: the preview replies to it (and the same update twice is one draft).
    request_message_id  INTEGER NOT NULL,
    -- The preview message; NULL until it is sent.
    preview_message_id  INTEGER,
    idea                TEXT NOT NULL,
    -- The model whose limits the lyrics were fitted to.
    target_model        TEXT NOT NULL,
    title               TEXT NOT NULL DEFAULT '',
    style               TEXT NOT NULL DEFAULT '',
    lyrics              TEXT NOT NULL DEFAULT '',
    versions            INTEGER NOT NULL DEFAULT 0,
    -- The song made from it (🎵 Make this song), once; 0 while it is being made (no foreign key:
    -- the 0 claim comes before the job exists).
    job_id              INTEGER,
    created_at          REAL NOT NULL,
    updated_at          REAL NOT NULL,
    UNIQUE (chat_id, request_message_id)
);

CREATE INDEX lyrics_drafts_preview ON lyrics_drafts (chat_id, preview_message_id)
    WHERE preview_message_id IS NOT NULL;

CREATE TABLE lyrics_calls (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL,
    draft_id           INTEGER REFERENCES lyrics_drafts (id) ON DELETE SET NULL,
    model              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    total_tokens       INTEGER NOT NULL DEFAULT 0,
    -- 1 when the call produced nothing the user could see (provider down): not counted.
    refunded           INTEGER NOT NULL DEFAULT 0,
    created_at         REAL NOT NULL
);

CREATE INDEX lyrics_calls_user_day ON lyrics_calls (user_id, created_at) WHERE refunded = 0;
