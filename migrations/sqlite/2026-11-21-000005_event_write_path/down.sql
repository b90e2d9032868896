-- The PostgreSQL migration of this name drops two foreign keys that cost a lookup per
-- inserted event. SQLite checks them in-process at little cost, and changing a key there
-- means rebuilding the table, so this database keeps them.
SELECT 1;
