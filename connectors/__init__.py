"""Frontends of the assistant: one module per channel."""
