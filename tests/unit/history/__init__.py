"""Unit tests of the pure history modules: no server, no database, a fake clock."""
