"""The one validation-and-merge path every import takes (CSV, YAML, JSON and native upstreams).

rows.py checks one row; plan.py merges a file's rows into accounts and entities; entities.py
matches those entities with the registered ones (identifiers, shared accounts); write.py writes.
"""
