"""The embedded local backend: SQLite (stdlib) in one data directory. The default.

Importing this package imports no cloud SDK.
"""
