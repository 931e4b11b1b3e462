-- +goose Up
-- A week row's sums of its days' rows, kept as rollup deltas are applied:
-- day_threads, its days' threads (a thread counted once per day), and on a
-- person's rows days, the days they were active. A window of days is then
-- summed from whole weeks plus the days at its edges (the dashboard's
-- ranking). Filled here from the day rows already kept, in one pass.
ALTER TABLE analytics_usage ADD COLUMN day_threads BIGINT NOT NULL DEFAULT 0;
ALTER TABLE analytics_usage ADD COLUMN days BIGINT NOT NULL DEFAULT 0;
UPDATE analytics_usage SET day_threads = s.t, days = CASE WHEN analytics_usage.identity = '*' THEN 0 ELSE s.n END
FROM (SELECT workspace_id, date(bucket, 'weekday 0', '-6 days') AS wk, identity, client_id, model, SUM(threads) AS t, COUNT(*) AS n
      FROM analytics_usage WHERE period = 'day' GROUP BY 1, 2, 3, 4, 5) s
WHERE analytics_usage.period = 'week' AND analytics_usage.workspace_id = s.workspace_id AND analytics_usage.bucket = s.wk
    AND analytics_usage.identity = s.identity AND analytics_usage.client_id = s.client_id AND analytics_usage.model = s.model;

-- +goose Down
ALTER TABLE analytics_usage DROP COLUMN days;
ALTER TABLE analytics_usage DROP COLUMN day_threads;
