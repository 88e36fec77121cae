"""One error taxonomy for every backend.

The service decides fail-open versus fail-closed from the *class* of an error, never from a
cloud-specific exception, so every backend maps its SDK's failures onto these classes. Messages
name the store and the key (or the setting) so an operator can act on them without a traceback.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every adapter error."""

    def __init__(self, message: str, *, store: str | None = None, key: object = None) -> None:
        self.store = store
        self.key = key
        where = []
        if store is not None:
            where.append(f"store {store!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class NotFound(StoreError):
    """The item, secret, object or version does not exist (or has expired)."""


class Conflict(StoreError):
    """A conditional write lost: the item already exists, was already consumed, or a limit is full."""


class Throttled(StoreError):
    """The backend is rate limiting us; retry after `retry_after` seconds."""

    def __init__(
        self,
        message: str,
        *,
        store: str | None = None,
        key: object = None,
        retry_after: float = 1.0,
    ) -> None:
        super().__init__(message, store=store, key=key)
        self.retry_after = retry_after


class Unavailable(StoreError):
    """The backend cannot be reached right now (network, emulator down, disk I/O failure)."""


class Misconfigured(StoreError):
    """The backend is reachable but not set up as the catalog requires, or a setting is invalid.

    The message says what to change: the setting name, the missing resource, the command to run.
    """


class IntegrityError(StoreError):
    """Encrypted data failed authentication: wrong associated data, tampering, or the wrong key."""


class Unsupported(StoreError):
    """The backend does not declare the feature this operation needs."""
