ALTER TABLE convoys DROP COLUMN truck_steps;
