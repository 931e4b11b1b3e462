-- +goose Up
-- The last turn each session's records saw: a record of another turn is
-- the first of a new one (a turn the analytics count when no telemetry
-- does).
ALTER TABLE gateway_sessions ADD COLUMN last_turn TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gateway_sessions DROP COLUMN last_turn;
