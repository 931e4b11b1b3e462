-- +goose Up
-- Telemetry events partitioned by UTC day of the event's time, so that
-- retention drops a whole partition. The server creates each day's
-- partition when its first event arrives (telemetry_events_YYYYMMDD). The
-- key holds the time, which a replayed event repeats, so a replay still
-- lands on its stored row.
DROP INDEX telemetry_events_time;
ALTER TABLE telemetry_events RENAME TO telemetry_events_unpartitioned;
CREATE TABLE telemetry_events (
    workspace_id   TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    time           BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    surface        TEXT NOT NULL,
    model          TEXT NOT NULL,
    identity       TEXT NOT NULL,
    credential     TEXT NOT NULL,
    device         TEXT NOT NULL,
    host           TEXT NOT NULL,
    claim_email    TEXT NOT NULL,
    claim_mismatch BOOLEAN NOT NULL,
    data           TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, event_id, time)
) PARTITION BY RANGE (time);
CREATE INDEX telemetry_events_time ON telemetry_events (workspace_id, time);
-- +goose StatementBegin
DO $$
DECLARE d BIGINT;
BEGIN
    FOR d IN SELECT DISTINCT floor(time / 86400000000.0)::BIGINT FROM telemetry_events_unpartitioned LOOP
        EXECUTE format('CREATE TABLE telemetry_events_%s PARTITION OF telemetry_events FOR VALUES FROM (%s) TO (%s)',
            to_char(to_timestamp(d * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD'), d * 86400000000, (d + 1) * 86400000000);
    END LOOP;
END $$;
-- +goose StatementEnd
INSERT INTO telemetry_events SELECT * FROM telemetry_events_unpartitioned;
DROP TABLE telemetry_events_unpartitioned;

-- +goose Down
ALTER TABLE telemetry_events RENAME TO telemetry_events_partitioned;
ALTER INDEX telemetry_events_time RENAME TO telemetry_events_partitioned_time;
CREATE TABLE telemetry_events (
    workspace_id   TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    time           BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    surface        TEXT NOT NULL,
    model          TEXT NOT NULL,
    identity       TEXT NOT NULL,
    credential     TEXT NOT NULL,
    device         TEXT NOT NULL,
    host           TEXT NOT NULL,
    claim_email    TEXT NOT NULL,
    claim_mismatch BOOLEAN NOT NULL,
    data           TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, event_id)
);
INSERT INTO telemetry_events SELECT * FROM telemetry_events_partitioned ON CONFLICT DO NOTHING;
DROP TABLE telemetry_events_partitioned;
CREATE INDEX telemetry_events_time ON telemetry_events (workspace_id, time);
