"""The workflow drawn: its run's history as a graph and as a timeline, rendered as SVG on the
server, and the two pages that show them."""

from cadenza.web.ui_graph.graph_svg import graph_svg
from cadenza.web.ui_graph.timeline_svg import timeline_svg

__all__ = ["graph_svg", "timeline_svg"]
