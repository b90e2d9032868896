-- Each convoy's trucks at each stop of its route, kept beside its figures by the write
-- path (domain::trucks::encode_steps) so that the weekly report reads one value per
-- convoy instead of all its events. NULL until the convoy's next event: the report then
-- counts from the events, as it did before this column.
ALTER TABLE convoys ADD COLUMN truck_steps TEXT;
