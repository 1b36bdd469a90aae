"""The domain core: incidents, the workflow table, the catalog, routing, deadlines, merging and
permissions. Pure Python: no Qt, no I/O, no SQLAlchemy, no sockets."""
