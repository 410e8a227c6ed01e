"""Prometheus metrics: Temporal's metric names and label keys, plus Cadenza's own.

``service.Metrics`` owns one registry per server and renders it for ``/metrics``.
The roles never import ``prometheus_client``: each exposes a narrow hook (a
callable or a ``hooks`` protocol) that the server points at the objects here, so
a server with metrics off runs the same code with nothing recorded.
"""
