"""Sources that stay in step: upstream registries the registry syncs with, by name.

tables.py holds them; catalog.py adds, lists and removes them; sync.py brings the registry in
step with one (one transaction, credited to `source:NAME`); schedule.py syncs them when due.
"""
