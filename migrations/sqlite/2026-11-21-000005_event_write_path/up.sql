-- No query reads events by (convoy, time): a convoy's events are read by (convoy_id, seq),
-- which its unique constraint indexes. One index less to maintain per inserted event.
--
-- (The PostgreSQL migration of this name also drops two foreign keys that cost a lookup
-- per inserted event there. SQLite checks them in-process at little cost, and changing a
-- key means rebuilding the table, so SQLite keeps them, and with them the checkpoint
-- index its foreign key check uses.)
DROP INDEX events_convoy_observed;
