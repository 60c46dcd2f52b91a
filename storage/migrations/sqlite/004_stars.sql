-- 004: Telegram Stars credits (issue #19). Balances are never stored, only derived from these rows,
-- so no counter can drift from the ledger that explains it (storage/stars.py).

-- One row per successful payment; the charge id is Telegram's, so a payment redelivered, replayed
-- after a crash or seen again after a restart can never be credited twice.
CREATE TABLE star_purchases (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_payment_charge_id TEXT NOT NULL UNIQUE,
    user_id                    INTEGER NOT NULL,
    chat_id                    INTEGER NOT NULL,
    songs                      INTEGER NOT NULL CHECK (songs > 0),
    stars                      INTEGER NOT NULL CHECK (stars > 0),
    payload                    TEXT NOT NULL,
    created_at                 REAL NOT NULL,
    -- The confirmation message: claimed before sending, so a redelivery does not send it twice.
    notified_at                REAL,
    refunded_at                REAL,
    refunded_songs             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX star_purchases_user ON star_purchases (user_id);

-- How each song of a paying bot is paid for: a free song of the day or one credit.
-- state: reserved (accepted) -> used (charged by the provider) -> released (failed: given back).
CREATE TABLE song_billing (
    job_id      INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('free', 'credit')),
    state       TEXT NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'used', 'released')),
    created_at  REAL NOT NULL,
    used_at     REAL,
    released_at REAL
);
CREATE INDEX song_billing_user_day ON song_billing (user_id, kind, created_at);

-- Every movement of credits, one row each: purchase (+), reserve (-), use (0, a reserved credit
-- is spent), release (+), refund (-).
CREATE TABLE star_ledger (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('purchase', 'reserve', 'use', 'release', 'refund')),
    credits    INTEGER NOT NULL,
    stars      INTEGER NOT NULL DEFAULT 0,
    job_id     INTEGER,
    charge_id  TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX star_ledger_user ON star_ledger (user_id, created_at);

-- Used: the provider charged the generation (the usage row of the paid POST).
CREATE TRIGGER song_billing_use AFTER INSERT ON usage
BEGIN
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'use', 0, job_id, NEW.created_at FROM song_billing
    WHERE job_id = NEW.job_id AND kind = 'credit' AND state = 'reserved';
    UPDATE song_billing SET state = 'used', used_at = NEW.created_at
    WHERE job_id = NEW.job_id AND state = 'reserved';
END;

-- Released: a song that failed, timed out or was interrupted gives its credit (or its free song)
-- back; a cancel only before the paid POST (storage/cancelling.py: after it, the song counts).
-- A trigger, so every writer of the job state (the runner, a cancel, a repair) gets it, in the
-- same statement as the move.
CREATE TRIGGER song_billing_release AFTER UPDATE OF state ON jobs
WHEN NEW.state IN ('failed', 'timed_out', 'interrupted')
    OR (NEW.state = 'cancelled' AND OLD.state IN ('received', 'preparing'))
BEGIN
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'release', 1, job_id, NEW.updated_at FROM song_billing
    WHERE job_id = NEW.id AND kind = 'credit' AND state IN ('reserved', 'used');
    UPDATE song_billing SET state = 'released', released_at = NEW.updated_at
    WHERE job_id = NEW.id AND state IN ('reserved', 'used');
END;
