DROP TABLE tokens;
DROP TABLE route_checkpoints;
DROP TABLE routes;
DROP TABLE commodities;
DROP TABLE checkpoints;
DROP TABLE organizations;
