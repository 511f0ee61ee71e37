"""The only code of clausewatch that touches SQLite. Imports nothing else of ours."""
from clausewatch.db.connection import connect, connect_private, now_iso

__all__ = ["connect", "connect_private", "now_iso"]
