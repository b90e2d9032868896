DROP TABLE convoy_losses;
DROP TABLE convoy_figures;
DROP TABLE event_lines;
DROP TABLE events;
DROP TABLE manifest_lines;
DROP TABLE convoys;
