-- +goose Up
-- Which workspace each state version changed ('' for the server: signing
-- keys, server keys), so that a replica rebuilds only the workspaces that
-- changed since its snapshot. Old rows are pruned; a replica further
-- behind rebuilds everything.
CREATE TABLE state_changes (
    version      BIGINT PRIMARY KEY,
    workspace_id TEXT NOT NULL
);

-- +goose Down
DROP TABLE state_changes;
