-- +goose Up
-- Which workspace each state version changed ('' for the server: signing
-- keys, server keys), so that a replica rebuilds only the workspaces that
-- changed since its snapshot. Old rows are pruned; a replica further
-- behind rebuilds everything.
CREATE TABLE state_changes (
    version      BIGINT PRIMARY KEY,
    workspace_id TEXT NOT NULL
);

-- One workspace's part of the state is read by workspace: its credentials
-- without scanning every workspace's.
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);
CREATE INDEX access_tokens_workspace ON access_tokens (workspace_id);
CREATE INDEX enrollment_tokens_workspace ON enrollment_tokens (workspace_id);
CREATE INDEX oauth_grants_workspace ON oauth_grants (workspace_id, revoked_at);

-- +goose Down
DROP INDEX oauth_grants_workspace;
DROP INDEX enrollment_tokens_workspace;
DROP INDEX access_tokens_workspace;
DROP INDEX api_keys_workspace;
DROP TABLE state_changes;
