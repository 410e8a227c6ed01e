"""Nexus: endpoints, and the operations workflows run on them."""
