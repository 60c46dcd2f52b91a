-- 007: a song's credit (or free song) follows the provider's charge, not the job's ending (#24.1).
-- Before, every failed job gave its credit back, also one the provider had made and charged for
-- whose upload Telegram refused: with a group that refuses audio, every song was free and could
-- still be re-sent from /jobs. Now the credit goes back exactly when the daily quota does: the
-- job ended with no charge counted (no usage row, or one refunded because the provider did not
-- charge). A cancel after the paid POST keeps counting as before.

DROP TRIGGER song_billing_release;

CREATE TRIGGER song_billing_release AFTER UPDATE OF state ON jobs
WHEN (NEW.state IN ('failed', 'timed_out', 'interrupted')
      OR (NEW.state = 'cancelled' AND OLD.state IN ('received', 'preparing')))
    AND NOT EXISTS (SELECT 1 FROM usage WHERE job_id = NEW.id AND refunded = 0)
BEGIN
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'release', 1, job_id, NEW.updated_at FROM song_billing
    WHERE job_id = NEW.id AND kind = 'credit' AND state IN ('reserved', 'used');
    UPDATE song_billing SET state = 'released', released_at = NEW.updated_at
    WHERE job_id = NEW.id AND state IN ('reserved', 'used');
END;

-- The provider did not charge after all (`UsageLedger.refund`, written just after the job's end):
-- the quota comes back, and so does the credit, in the same statement.
CREATE TRIGGER song_billing_refund AFTER UPDATE OF refunded ON usage
WHEN NEW.refunded = 1 AND OLD.refunded = 0
BEGIN
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'release', 1, job_id,
           COALESCE((SELECT updated_at FROM jobs WHERE id = NEW.job_id), NEW.created_at)
    FROM song_billing
    WHERE job_id = NEW.job_id AND kind = 'credit' AND state IN ('reserved', 'used');
    UPDATE song_billing
    SET state = 'released',
        released_at = COALESCE((SELECT updated_at FROM jobs WHERE id = NEW.job_id), NEW.created_at)
    WHERE job_id = NEW.job_id AND state IN ('reserved', 'used');
END;

-- A successful_payment that does not buy exactly a pack on sale (amount, currency, payload;
-- #24.15): nothing is credited, and the payment stays here for the operator (`songbot stars
-- reconcile` lists it and never credits it automatically).
CREATE TABLE star_payment_problems (
    telegram_payment_charge_id TEXT PRIMARY KEY,
    user_id                    INTEGER NOT NULL,
    chat_id                    INTEGER NOT NULL,
    currency                   TEXT NOT NULL,
    stars                      INTEGER NOT NULL,
    payload                    TEXT NOT NULL,
    reason                     TEXT NOT NULL,
    created_at                 REAL NOT NULL
);
