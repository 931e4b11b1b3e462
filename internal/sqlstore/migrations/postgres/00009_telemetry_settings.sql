-- +goose Up
-- The workspace's telemetry settings: the export codexgov enforces (off,
-- metadata, prompts), whether trace summaries are kept, and the
-- workspace's own redaction patterns (a JSON array of strings).
ALTER TABLE workspaces ADD COLUMN telemetry TEXT NOT NULL DEFAULT 'off';
ALTER TABLE workspaces ADD COLUMN telemetry_drop_traces BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE workspaces ADD COLUMN telemetry_redact TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE workspaces DROP COLUMN telemetry_redact;
ALTER TABLE workspaces DROP COLUMN telemetry_drop_traces;
ALTER TABLE workspaces DROP COLUMN telemetry;
