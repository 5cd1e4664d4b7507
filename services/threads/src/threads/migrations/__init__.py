"""Alembic owns every table of the threads service; `runner` drives it from code."""
