"""Operational procedures that work on any backend through the ports."""
