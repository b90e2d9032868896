-- Events are the hot write path (a sync batch appends a thousand at once), and every
-- foreign key and index costs work per inserted row.
--
-- Two foreign keys guard nothing the write path does not already guarantee in the same
-- transaction: an event's checkpoint is one of its convoy's route stops (a checkpoint on a
-- route cannot be deleted, nor can a route in use change its checkpoints), and the event
-- an event corrects is one of the same convoy's events, found under the convoy's lock.
-- The key to the convoy stays.
ALTER TABLE events DROP CONSTRAINT events_checkpoint_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_corrects_fkey;
-- No query reads events by checkpoint or by (convoy, time): a convoy's events are read by
-- (convoy_id, seq), which its unique constraint indexes.
DROP INDEX events_convoy_observed;
DROP INDEX events_checkpoint;
