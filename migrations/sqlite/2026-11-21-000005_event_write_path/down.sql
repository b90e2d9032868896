CREATE INDEX events_convoy_observed ON events (convoy_id, observed_at);
