-- +goose Up
-- A deletion (a Codex task's records, a person's) re-seals the files that
-- held them: the new file is a new link of the chain naming the one it
-- replaces; the replaced file keeps its row (its manifest, its place in the
-- chain) and loses its body.
ALTER TABLE compliance_files ADD COLUMN replaces TEXT NOT NULL DEFAULT '';
ALTER TABLE compliance_files ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE compliance_files DROP COLUMN replaced_by;
ALTER TABLE compliance_files DROP COLUMN replaces;
