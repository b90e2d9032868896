DROP TABLE outbox;
DROP TABLE report_snapshots;
DROP TABLE report_dirty;
DROP TABLE rollup_state;
DROP TABLE week_rollups;
DROP TABLE deliveries;
DROP TABLE requirements;
