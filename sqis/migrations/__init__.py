"""Alembic migrations of the results store (``sqis db upgrade`` applies them)."""
