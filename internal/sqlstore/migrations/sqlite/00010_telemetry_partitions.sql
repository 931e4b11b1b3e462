-- +goose Up
-- PostgreSQL partitions telemetry events by day here; SQLite keeps one
-- table, pruned by time (the numbering stays the same on both).
SELECT 1;

-- +goose Down
SELECT 1;
