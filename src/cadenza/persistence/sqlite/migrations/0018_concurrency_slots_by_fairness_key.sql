-- Migration 18: the slots of a limit indexed by fairness key, so counting one key's slots (a
-- dispatch on a queue limited per fairness key, on a shared database) reads that key's rows,
-- not every slot of the limit.
CREATE INDEX IF NOT EXISTS concurrency_slots_by_fairness_key
    ON concurrency_slots (namespace_id, scope, name, fairness_key);
