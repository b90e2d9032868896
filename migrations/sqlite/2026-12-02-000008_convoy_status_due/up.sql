-- The overview and the convoy list filter by status and read in due order: one index
-- answers both (the status-only index it replaces left a sort of every matching row).
DROP INDEX convoys_status;
CREATE INDEX convoys_status_due ON convoys (status, expected_arrival, id);
