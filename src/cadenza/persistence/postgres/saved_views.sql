-- Saved views of the workflow list (migration 7).

-- name: list_saved_views
SELECT namespace_id, name, query_string, created_at, created_by FROM saved_views
WHERE namespace_id = $1 ORDER BY name;

-- name: insert_saved_view
INSERT INTO saved_views (namespace_id, name, query_string, created_at, created_by)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace_id, name) DO NOTHING;

-- name: delete_saved_view
DELETE FROM saved_views WHERE namespace_id = $1 AND name = $2;
