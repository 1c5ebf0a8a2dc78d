"""Two-way link verification: reading official sites and accounts' own pages (links.py,
accounts.py, checker.py) and keeping the dated results (store.py)."""
