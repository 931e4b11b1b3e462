-- +goose Up
-- Per-workspace data keys (AES-256-GCM), each wrapped by a key derived
-- from the master key: they encrypt content at rest (prompt and tool texts
-- in raw events, sealed compliance files). Rotating the master key
-- re-wraps these rows and nothing else.
CREATE TABLE data_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    wrapped      BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX data_keys_workspace ON data_keys (workspace_id, created_at);

-- +goose Down
DROP TABLE data_keys;
