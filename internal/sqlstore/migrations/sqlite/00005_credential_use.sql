-- +goose Up
-- API keys may expire; API keys and enrollment tokens record when they were
-- last used (written in batches, not per request). Microseconds since the
-- epoch, 0 for never.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE enrollment_tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
-- The signing keys a sync machine has pinned (newline-separated kids), so
-- that a key is not retired while machines trust only it.
ALTER TABLE sync_machines ADD COLUMN pinned_kids TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sync_machines DROP COLUMN pinned_kids;
ALTER TABLE enrollment_tokens DROP COLUMN last_used_at;
ALTER TABLE api_keys DROP COLUMN last_used_at;
ALTER TABLE api_keys DROP COLUMN expires_at;
