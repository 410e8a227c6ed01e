"""The web UI: server-rendered pages over the same servicer calls as gRPC and the HTTP API."""
