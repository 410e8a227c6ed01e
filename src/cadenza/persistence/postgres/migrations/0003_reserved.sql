-- Migration 3 is the visibility change being merged separately; this placeholder keeps the
-- numbers without gaps until it lands, and is dropped then.
SELECT 1;
