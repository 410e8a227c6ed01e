"""Moving a SQLite database into PostgreSQL, table by table, and checking the result."""
