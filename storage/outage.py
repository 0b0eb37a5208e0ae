"""Whether a failure means "the database is away" (retry later) rather than a bug."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_outage(exc: BaseException) -> bool:
    # asyncpg raises the socket's own error when it cannot connect; a connection lost in use
    # comes wrapped and marked invalidated; SQLite's "unable to open" is an OperationalError.
    if isinstance(exc, OSError | PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
