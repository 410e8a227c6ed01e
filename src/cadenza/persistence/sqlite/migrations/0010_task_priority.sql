-- Migration 10: a task keeps the priority matching orders it by (Temporal's Priority: key
-- 1-5 with 0 for the default, fairness key and weight with ''/0 for none), so the order
-- survives a restart. Tasks stored before have none.
ALTER TABLE tasks ADD COLUMN priority_key INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN fairness_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN fairness_weight REAL NOT NULL DEFAULT 0;
