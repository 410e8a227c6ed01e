"""Temporal's HTTP API: routes read from the ``google.api.http`` annotations, Temporal's JSON,
and every call made through the servicer methods gRPC calls."""
