CREATE INDEX events_checkpoint ON events (checkpoint_id);
CREATE INDEX events_convoy_observed ON events (convoy_id, observed_at);
ALTER TABLE events ADD CONSTRAINT events_corrects_fkey FOREIGN KEY (corrects) REFERENCES events(id);
ALTER TABLE events ADD CONSTRAINT events_checkpoint_id_fkey FOREIGN KEY (checkpoint_id) REFERENCES checkpoints(id);
