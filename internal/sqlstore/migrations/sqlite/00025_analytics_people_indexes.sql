-- +goose Up
-- The people's totals rows (client and model '*'), for the dashboard: its
-- ranking sums a window of them from this index alone (counters included),
-- and reads a person's active buckets for their streak by person.
CREATE INDEX analytics_usage_people_window ON analytics_usage (workspace_id, period, bucket, identity, threads, turns, input_tokens, output_tokens)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';
CREATE INDEX analytics_usage_people_person ON analytics_usage (workspace_id, period, identity, bucket)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';

-- +goose Down
DROP INDEX analytics_usage_people_person;
DROP INDEX analytics_usage_people_window;
