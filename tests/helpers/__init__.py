"""Test-only code that Dask workers must import by name (tests/ is on their PYTHONPATH)."""
