-- +goose Up
-- Where a request came from, for the Compliance API's request_metadata:
-- the address a telemetry batch came from, and the address and User-Agent
-- of each audited change.
ALTER TABLE telemetry_events ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_events DROP COLUMN user_agent;
ALTER TABLE audit_events DROP COLUMN client_ip;
ALTER TABLE telemetry_events DROP COLUMN client_ip;
