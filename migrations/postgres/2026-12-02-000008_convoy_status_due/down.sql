DROP INDEX convoys_status_due;
CREATE INDEX convoys_status ON convoys (status);
