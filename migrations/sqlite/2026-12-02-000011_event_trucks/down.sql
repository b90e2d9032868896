ALTER TABLE events DROP COLUMN trucks_turned_back;
ALTER TABLE events DROP COLUMN trucks_held;
ALTER TABLE events DROP COLUMN trucks_passed;
