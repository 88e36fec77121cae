"""Port implementations written once over the `Table` driver contract (see `adapters/table.py`).

Backends never reimplement these: they provide tables, and these classes give every backend the
same semantics.
"""
