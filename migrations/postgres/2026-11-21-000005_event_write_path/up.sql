-- Events are the hot write path (a sync batch appends a thousand at once), and every
-- foreign key is a lookup per inserted row. Two of them guard nothing the write path does
-- not already guarantee in the same transaction: an event's checkpoint is one of its
-- convoy's route stops (and a checkpoint on a route cannot be deleted, nor a route in use
-- change its checkpoints), and the event an event corrects is one of the same convoy's
-- events, found under the convoy's lock. The key to the convoy stays.
ALTER TABLE events DROP CONSTRAINT events_checkpoint_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_corrects_fkey;
