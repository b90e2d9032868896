-- Trucks counted at a checkpoint, beside the cargo: how many went on from it, were held
-- there, or were sent back from it. NULL when the event gives no count (the count of an
-- earlier event at that checkpoint, or the trucks that reached it, carries forward).
ALTER TABLE events ADD COLUMN trucks_passed INTEGER;
ALTER TABLE events ADD COLUMN trucks_held INTEGER;
ALTER TABLE events ADD COLUMN trucks_turned_back INTEGER;
