"""What an operator sees of each request: its log context and, when enabled, its trace.

- ``scope``: the request being served (RPC, request ID, namespace, workflow and run),
  set once where each RPC enters and read from a context variable;
- ``hooks``: the calls the API makes where an RPC enters, where it finds the run it is
  about, and where a task is handed to a worker, and the tracer they report to when
  tracing is on;
- ``logs``: the logging set-up, a filter that adds the request's fields to each record,
  and the text and JSON formats;
- ``otel``: the only module that imports OpenTelemetry (the optional ``otel`` extra),
  loaded only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` asks for traces.
"""
