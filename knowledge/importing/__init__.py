"""The one validation-and-merge path every import takes (CSV, YAML, JSON and native upstreams).

rows.py checks one row; plan.py merges a file's rows into accounts and entities; entities.py
matches those entities with the registered ones (identifiers, shared accounts); write.py writes
(background.py on SQLite, in aiosqlite's thread); written.py knows what an SQLite import may
find registered, so that a part reads only that.
"""
