-- +goose Up
-- Retention days per Compliance API event type (a JSON object; absent
-- types keep 30 days).
ALTER TABLE workspaces ADD COLUMN compliance_retention TEXT NOT NULL DEFAULT '{}';

-- The users whose records a sealed file holds ("\nEMAIL\n…"), so that a
-- user's legal hold keeps exactly the files that name them.
ALTER TABLE compliance_files ADD COLUMN actors TEXT NOT NULL DEFAULT '';

-- Legal holds: a user's or a whole workspace's (user_email ''), until
-- released.
CREATE TABLE legal_holds (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_email   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    released_at  BIGINT NOT NULL
);
CREATE INDEX legal_holds_workspace ON legal_holds (workspace_id);

-- +goose Down
DROP TABLE legal_holds;
ALTER TABLE compliance_files DROP COLUMN actors;
ALTER TABLE workspaces DROP COLUMN compliance_retention;
