"""The PostgreSQL backend (asyncpg), for several server replicas on one database."""
