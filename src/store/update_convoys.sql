-- Sets the ledger columns of many convoys in one statement: {values} is replaced by rows
-- (id, status, last_checkpoint_id, last_seen_at, planned_kg, …, updated_at, chain_head,
-- truck_steps) that aidflow made itself (ids, status codes, integers, hex hashes, truck
-- counts as numbers), never client text.
-- The casts make both PostgreSQL and SQLite read the VALUES columns with the convoys
-- table's types.
WITH v(id, status, last_checkpoint_id, last_seen_at, planned_kg, loaded_kg,
       delivered_kg, short_loaded_kg, denied_kg, lost_kg, rejected_kg, outstanding_kg,
       cancelled_kg, ledger_version, updated_at, chain_head, truck_steps) AS (VALUES {values})
UPDATE convoys SET
    status = CAST(v.status AS TEXT),
    last_checkpoint_id = CAST(v.last_checkpoint_id AS TEXT),
    last_seen_at = CAST(v.last_seen_at AS BIGINT),
    planned_kg = CAST(v.planned_kg AS BIGINT),
    loaded_kg = CAST(v.loaded_kg AS BIGINT),
    delivered_kg = CAST(v.delivered_kg AS BIGINT),
    short_loaded_kg = CAST(v.short_loaded_kg AS BIGINT),
    denied_kg = CAST(v.denied_kg AS BIGINT),
    lost_kg = CAST(v.lost_kg AS BIGINT),
    rejected_kg = CAST(v.rejected_kg AS BIGINT),
    outstanding_kg = CAST(v.outstanding_kg AS BIGINT),
    cancelled_kg = CAST(v.cancelled_kg AS BIGINT),
    ledger_version = CAST(v.ledger_version AS BIGINT),
    updated_at = CAST(v.updated_at AS BIGINT),
    chain_head = CAST(v.chain_head AS TEXT),
    truck_steps = CAST(v.truck_steps AS TEXT)
FROM v
WHERE convoys.id = v.id
