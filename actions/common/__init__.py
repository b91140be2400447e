"""Helpers shared by the flows: labels, identity, replies."""
