-- +goose Up
-- The people's indexes of 00025, covering: they carry client_id and model
-- (the queries name them, as the partial index's condition; an index
-- without them is not covering, and SQLite chose the primary key's bucket
-- range instead, reading every person's rows of all clients and models),
-- and the window index the week rows' day sums.
DROP INDEX analytics_usage_people_person;
DROP INDEX analytics_usage_people_window;
CREATE INDEX analytics_usage_people_window ON analytics_usage (workspace_id, period, bucket, identity, threads, turns, input_tokens, output_tokens, day_threads, days, client_id, model)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';
CREATE INDEX analytics_usage_people_person ON analytics_usage (workspace_id, period, identity, bucket, client_id, model)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';

-- +goose Down
DROP INDEX analytics_usage_people_person;
DROP INDEX analytics_usage_people_window;
CREATE INDEX analytics_usage_people_window ON analytics_usage (workspace_id, period, bucket, identity, threads, turns, input_tokens, output_tokens)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';
CREATE INDEX analytics_usage_people_person ON analytics_usage (workspace_id, period, identity, bucket)
    WHERE client_id = '*' AND model = '*' AND identity <> '*';
