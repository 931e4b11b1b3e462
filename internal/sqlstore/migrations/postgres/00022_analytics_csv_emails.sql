-- +goose Up
-- Whether the Analytics API's per-user CSV export carries users' emails.
ALTER TABLE workspaces ADD COLUMN analytics_csv_emails BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN analytics_csv_emails;
