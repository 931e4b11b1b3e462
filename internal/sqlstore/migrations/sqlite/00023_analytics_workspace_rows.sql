-- +goose Up
-- The workspace rows (identity '*') of the usage rollups, on their own: a
-- workspace query over 90 days reads its ~90 buckets' rows, not every
-- user's rows in between (the primary key orders by bucket, then identity).
CREATE INDEX analytics_usage_workspace_rows ON analytics_usage (workspace_id, period, bucket, client_id, model) WHERE identity = '*';

-- +goose Down
DROP INDEX analytics_usage_workspace_rows;
