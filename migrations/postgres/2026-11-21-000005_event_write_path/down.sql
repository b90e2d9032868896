ALTER TABLE events ADD CONSTRAINT events_corrects_fkey FOREIGN KEY (corrects) REFERENCES events(id);
ALTER TABLE events ADD CONSTRAINT events_checkpoint_id_fkey FOREIGN KEY (checkpoint_id) REFERENCES checkpoints(id);
