"""Fixtures for tests under tests/ (the shared ones live in the root conftest.py)."""
