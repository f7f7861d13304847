"""Alembic migrations of the neodyme schema. Run them with
``neodyme_adapters.sqlalchemy.migrate.upgrade(url)``; there is no alembic.ini.

This directory is a package only so that setuptools ships ``env.py``; importing it has no
effect (Alembic loads ``env.py`` and the revisions by file path).
"""
