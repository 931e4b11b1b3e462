-- +goose Up
-- The people active in a bucket, client and model, kept on the workspace
-- rows (identity '*') as rollup deltas are applied: a person's row made
-- anew adds one. Filled here from the people's rows already kept.
ALTER TABLE analytics_usage ADD COLUMN users BIGINT NOT NULL DEFAULT 0;
UPDATE analytics_usage SET users = (SELECT COUNT(*) FROM analytics_usage u WHERE u.workspace_id = analytics_usage.workspace_id AND u.period = analytics_usage.period
    AND u.bucket = analytics_usage.bucket AND u.client_id = analytics_usage.client_id AND u.model = analytics_usage.model AND u.identity <> '*')
WHERE identity = '*';

-- +goose Down
ALTER TABLE analytics_usage DROP COLUMN users;
