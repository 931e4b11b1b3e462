-- +goose Up
-- What newly stored telemetry adds to the analytics rollups, queued in the
-- events' transaction (one small row per workspace and batch) and applied,
-- each row once, by a worker and before every usage read: ingest never
-- waits on the rollup rows other transactions update.
CREATE TABLE analytics_pending (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    payload      TEXT NOT NULL
);
CREATE INDEX analytics_pending_workspace ON analytics_pending (workspace_id, id);

-- +goose Down
DROP TABLE analytics_pending;
