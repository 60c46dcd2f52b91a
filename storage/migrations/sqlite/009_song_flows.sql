-- 009: requests waiting for the user (issues #25, #26): the guided flow from an idea to a song,
-- a `/song` without lyrics waiting for [Write lyrics] / [Instrumental], and a request that met
-- the Stars paywall, kept to be made once paid. Rows, not memory: their buttons must work after
-- a restart, and each may make exactly one song (job_id is claimed with a compare-and-set).

CREATE TABLE song_flows (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    -- guided: the /new flow; ask: lyrics or instrumental?; paywall: kept until paid.
    kind              TEXT NOT NULL CHECK (kind IN ('guided', 'ask', 'paywall')),
    chat_id           INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    -- The message the song will reply to (the user's request); a kept request is unique
    -- per message, so a redelivered update asks its question once.
    request_message_id INTEGER,
    -- The bot's message carrying the flow's buttons; NULL until it is sent.
    panel_message_id  INTEGER,
    -- The guided flow's current question (what, text, style, voice, lyrics, preview).
    step              TEXT NOT NULL DEFAULT '',
    -- The answers and the request as JSON (bot/intake/kept.py): what it is, the words, the
    -- style, the voice, a reference's file ids, where to reply.
    data              TEXT NOT NULL DEFAULT '{}',
    -- The song made from it, once; 0 while it is being made (the claim comes before the job).
    job_id            INTEGER,
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    expires_at        REAL NOT NULL
);

-- One guided flow per user and chat (a new one replaces the old).
CREATE UNIQUE INDEX song_flows_guided ON song_flows (chat_id, user_id) WHERE kind = 'guided';
CREATE UNIQUE INDEX song_flows_ask ON song_flows (chat_id, request_message_id)
    WHERE kind = 'ask';
CREATE INDEX song_flows_user ON song_flows (user_id, kind);
