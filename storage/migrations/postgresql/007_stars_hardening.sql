-- 007: a song's credit (or free song) follows the provider's charge, not the job's ending (#24.1).
-- The same rule as sqlite/007: the credit goes back exactly when the daily quota does (no usage
-- row, or one refunded because the provider did not charge). A trigger's WHEN may not hold a
-- subquery here, so the function looks for the usage row itself.

CREATE OR REPLACE FUNCTION song_billing_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM usage WHERE job_id = NEW.id AND refunded = 0) THEN
        RETURN NULL;  -- the provider charged it: the song counts, its credit stays spent
    END IF;
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'release', 1, job_id, NEW.updated_at FROM song_billing
    WHERE job_id = NEW.id AND kind = 'credit' AND state IN ('reserved', 'used');
    UPDATE song_billing SET state = 'released', released_at = NEW.updated_at
    WHERE job_id = NEW.id AND state IN ('reserved', 'used');
    RETURN NULL;
END;
$$;

-- The provider did not charge after all (`UsageLedger.refund`): the credit comes back with the
-- quota, in the same statement.
CREATE FUNCTION song_billing_refund() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at DOUBLE PRECISION := COALESCE((SELECT updated_at FROM jobs WHERE id = NEW.job_id),
                                    NEW.created_at);
BEGIN
    INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at)
    SELECT user_id, 'release', 1, job_id, at FROM song_billing
    WHERE job_id = NEW.job_id AND kind = 'credit' AND state IN ('reserved', 'used');
    UPDATE song_billing SET state = 'released', released_at = at
    WHERE job_id = NEW.job_id AND state IN ('reserved', 'used');
    RETURN NULL;
END;
$$;

CREATE TRIGGER song_billing_refund AFTER UPDATE OF refunded ON usage
FOR EACH ROW WHEN (NEW.refunded = 1 AND OLD.refunded = 0)
EXECUTE FUNCTION song_billing_refund();

-- A successful_payment that does not buy exactly a pack on sale (amount, currency, payload;
-- #24.15): nothing is credited, and the payment stays here for the operator (`songbot stars
-- reconcile` lists it and never credits it automatically).
CREATE TABLE star_payment_problems (
    telegram_payment_charge_id TEXT PRIMARY KEY,
    user_id                    BIGINT NOT NULL,
    chat_id                    BIGINT NOT NULL,
    currency                   TEXT NOT NULL,
    stars                      BIGINT NOT NULL,
    payload                    TEXT NOT NULL,
    reason                     TEXT NOT NULL,
    created_at                 DOUBLE PRECISION NOT NULL
);
