"""What we know and how it is stored or fetched: the SQL registry, migrations, importers, feeds."""
