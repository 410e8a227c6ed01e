"""HTTP: Temporal's HTTP API under ``/api/v1``, ``/healthz`` and ``/readyz``, served by uvicorn
in the server's own event loop (the only code importing starlette and uvicorn)."""
