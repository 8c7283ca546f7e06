"""Typed wrappers around the real Prometheus tools."""
