-- 001: the tables. Times are REAL unix seconds (UTC). Indexes for the runner's queries are in 002.
-- Applied inside one transaction by storage/db.py, which also sets PRAGMA user_version.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE jobs (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Sent to the provider as X-Client-Request-Id, so a lost submit can be found in its logs.
    key                      TEXT NOT NULL UNIQUE
                             CHECK (length(key) BETWEEN 1 AND 128
                                    AND key NOT GLOB '*[^A-Za-z0-9._:-]*'),
    chat_id                  INTEGER NOT NULL,
    chat_type                TEXT NOT NULL,
    topic_id                 INTEGER,
    user_id                  INTEGER NOT NULL,
    user_name                TEXT NOT NULL DEFAULT '',
    user_lang                TEXT,
    request_message_id       INTEGER NOT NULL,
    status_message_id        INTEGER,
    status_updated_at        REAL,
    model                    TEXT NOT NULL,
    prompt                   TEXT NOT NULL DEFAULT '',
    lyrics                   TEXT,
    options                  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    -- The reference (voice note, audio, URL) the song should follow, if any.
    reference_message_id     INTEGER,
    reference_file_id        TEXT,
    reference_file_unique_id TEXT,
    reference_kind           TEXT,
    reference_mime           TEXT,
    reference_duration       REAL,
    reference_size           INTEGER,
    reference_purpose        TEXT,
    refer_voice_id           TEXT,
    refer_instrumental_id    TEXT,
    reference_url            TEXT,
    -- Provider side.
    generation_id            TEXT,
    provider_status          TEXT,
    state                    TEXT NOT NULL DEFAULT 'received'
                             CHECK (state IN ('received', 'preparing', 'submitting', 'pending',
                                              'fetching', 'delivering', 'delivered', 'failed',
                                              'timed_out', 'cancelled', 'interrupted')),
    submit_attempts          INTEGER NOT NULL DEFAULT 0,
    poll_count               INTEGER NOT NULL DEFAULT 0,
    delivery_attempts        INTEGER NOT NULL DEFAULT 0,
    transient_errors         INTEGER NOT NULL DEFAULT 0,
    claims                   INTEGER NOT NULL DEFAULT 0,
    -- Active jobs always have a next check; finished ones never (keeps the due index small).
    next_check_at            REAL,
    deadline_at              REAL NOT NULL,
    lease_owner              TEXT,
    lease_until              REAL,
    cancel_requested_at      REAL,
    error_key                TEXT,
    error_detail             TEXT,
    credits_used             INTEGER,
    cost_usd                 REAL,
    audio_url                TEXT,
    result_path              TEXT,
    result_bytes             INTEGER,
    result_duration          REAL,
    result_mime              TEXT,
    result_format            TEXT,
    delivered_message_id     INTEGER,
    delivered_file_id        TEXT,
    submit_started_at        REAL,
    submitted_at             REAL,
    completed_at             REAL,
    fetched_at               REAL,
    delivered_at             REAL,
    finished_at              REAL,
    -- When the user was told how a failed/timed-out job ended (NULL: still owed a message).
    outcome_sent_at          REAL,
    created_at               REAL NOT NULL,
    updated_at               REAL NOT NULL,
    -- A Telegram update delivered twice must not create a second job.
    UNIQUE (chat_id, request_message_id),
    CHECK ((state IN ('delivered', 'failed', 'timed_out', 'cancelled', 'interrupted'))
           = (next_check_at IS NULL)),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);

CREATE TABLE chat_settings (
    chat_id         INTEGER PRIMARY KEY,
    model           TEXT,
    audio_prefs     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(audio_prefs)),
    language        TEXT,
    who_may_request TEXT NOT NULL DEFAULT 'everyone',
    updated_at      REAL NOT NULL
);

-- One row per charged generation: daily quotas and stats read this, never the jobs table,
-- so purging old jobs keeps the money history.
CREATE TABLE usage (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER UNIQUE REFERENCES jobs (id) ON DELETE SET NULL,
    user_id    INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL,
    model      TEXT NOT NULL,
    credits    INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    refunded   INTEGER NOT NULL DEFAULT 0 CHECK (refunded IN (0, 1))
);

-- Provider ids of uploaded references, so the same voice note is not uploaded (and paid) twice.
CREATE TABLE "references" (
    file_unique_id  TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    voice_id        TEXT,
    instrumental_id TEXT,
    created_at      REAL NOT NULL,
    PRIMARY KEY (file_unique_id, purpose)
) WITHOUT ROWID;

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    banned        INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
    language      TEXT,
    display_name  TEXT NOT NULL DEFAULT '',
    first_seen_at REAL,
    last_seen_at  REAL,
    updated_at    REAL NOT NULL
);
