"""Cadenza: a durable workflow orchestration server that speaks Temporal's gRPC API."""

__version__ = "0.1.0"
