-- +goose Up
-- Every workspace gets a stable UUID: the Compliance API's workspace_id.
ALTER TABLE workspaces ADD COLUMN uuid TEXT NOT NULL DEFAULT '';
UPDATE workspaces SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE uuid = '';
CREATE UNIQUE INDEX workspaces_uuid ON workspaces (uuid);

-- Sealed compliance log files: immutable, one chain per workspace and
-- event type (seq from 1; each manifest holds the previous one's hash).
CREATE TABLE compliance_files (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    start_time     BIGINT NOT NULL,
    end_time       BIGINT NOT NULL,
    max_event_time BIGINT NOT NULL,
    event_count    BIGINT NOT NULL,
    file_name      TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    manifest       TEXT NOT NULL,
    signature      TEXT NOT NULL,
    cursor         TEXT NOT NULL,
    UNIQUE (workspace_id, event_type, seq)
);
CREATE INDEX compliance_files_end ON compliance_files (workspace_id, event_type, end_time);

-- A file's body in chunks of at most 1 MiB, so that serving a large file
-- never holds it whole.
CREATE TABLE compliance_chunks (
    file_id TEXT NOT NULL,
    n       INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (file_id, n)
);

-- +goose Down
DROP TABLE compliance_chunks;
DROP TABLE compliance_files;
DROP INDEX workspaces_uuid;
ALTER TABLE workspaces DROP COLUMN uuid;
