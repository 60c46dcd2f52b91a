-- 002: one index per query the runner, the handlers and /stats run (see storage/jobs.py).

-- Due-job claim and "when is the next job due": only active jobs have next_check_at, so this
-- partial index holds just the live queue however many finished jobs pile up.
CREATE INDEX jobs_due ON jobs (next_check_at, lease_until) WHERE next_check_at IS NOT NULL;

-- Counts by state, the bot-wide running count, the global queue position, orphan search.
CREATE INDEX jobs_state_created ON jobs (state, created_at);

-- A user's running jobs (concurrency cap) and recent jobs.
CREATE INDEX jobs_user_state ON jobs (user_id, state);
CREATE INDEX jobs_user_created ON jobs (user_id, created_at);

-- A chat's running jobs, queue position and recent jobs.
CREATE INDEX jobs_chat_state_created ON jobs (chat_id, state, created_at);
CREATE INDEX jobs_chat_created ON jobs (chat_id, created_at);

-- Lease renewal and release on shutdown.
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;

-- Average generation time per model (completed_at - submitted_at) over recent jobs.
CREATE INDEX jobs_model_completed ON jobs (model, completed_at) WHERE completed_at IS NOT NULL;

-- Looking a job up by the provider's generation id (admin tools, log correlation).
CREATE INDEX jobs_generation_id ON jobs (generation_id) WHERE generation_id IS NOT NULL;

-- Daily quota: a user's charged generations in one UTC day; refunds are not in the index.
CREATE INDEX usage_user_day ON usage (user_id, created_at) WHERE refunded = 0;

-- Stats for "today" and totals.
CREATE INDEX usage_created ON usage (created_at);

-- Expiring stale cached references.
CREATE INDEX references_created ON "references" (created_at);
