"""google-cloud failures mapped onto the adapters' error taxonomy.

The service decides fail-open or fail-closed from the class of an error, so every exception the
Google clients raise (api_core's HTTP/gRPC classes, transport errors of `requests` and
google-auth, credential lookup failures) leaves the driver as one of ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import google.auth.exceptions as auth_errors
import requests
from google.api_core import exceptions as gx

from ..errors import Conflict, Misconfigured, NotFound, StoreError, Throttled, Unavailable

#: Appended to "resource is missing" errors.
CREATE_HINT = (
    "create it with `pulumi up` (cloud) or `phase-mirror bootstrap` (emulators: every "
    "*_endpoint=http://...)"
)

_TRANSPORT = (requests.exceptions.RequestException, auth_errors.TransportError)


@contextmanager
def mapped(store: str, key: object = None, *, missing: str | None = None) -> Iterator[None]:
    """Translate Google client errors raised inside the block.

    `missing` describes the container this call needs (a secret, a key, a bucket): a 404 then
    means the deployment lacks it (`Misconfigured`), not that an item is absent.
    """
    try:
        yield
    except StoreError:
        raise
    except Exception as error:
        mapped_error = map_error(error, store, key, missing=missing)
        if mapped_error is None:
            raise
        raise mapped_error from None


def map_error(
    error: BaseException, store: str, key: object = None, *, missing: str | None = None
) -> StoreError | None:
    """Our error for a Google client error, or None if `error` is not one (a bug: re-raise)."""
    text = _message(error)
    if isinstance(error, gx.RetryError):
        cause = error.cause
        detail = _message(cause) if cause is not None else text
        return Unavailable(f"gave up retrying: {detail}", store=store, key=key)
    if isinstance(error, gx.NotFound):
        if missing:
            return Misconfigured(f"{missing} does not exist ({text}); {CREATE_HINT}", store=store)
        return NotFound(text, store=store, key=key)
    if isinstance(error, gx.Aborted):  # a subclass of Conflict, but it means contention
        return Throttled(f"contention, retry: {text}", store=store, key=key, retry_after=0.5)
    if isinstance(error, gx.AlreadyExists | gx.Conflict | gx.PreconditionFailed):
        return Conflict(text, store=store, key=key)
    if isinstance(error, gx.FailedPrecondition):
        if "index" in text.lower():
            return Misconfigured(
                f"Firestore is missing a composite index: {text}; the catalog declares every "
                "index the queries need (`pulumi up` creates them)",
                store=store,
            )
        return Conflict(text, store=store, key=key)
    if isinstance(error, gx.TooManyRequests | gx.ResourceExhausted):
        return Throttled(text, store=store, key=key, retry_after=1.0)
    if isinstance(error, gx.Unauthenticated | gx.Unauthorized):
        return Misconfigured(
            f"not authenticated to Google Cloud ({text}); run `gcloud auth application-default "
            "login` or attach a service account",
            store=store,
        )
    if isinstance(error, gx.PermissionDenied | gx.Forbidden):
        return Misconfigured(
            f"permission denied ({text}); grant the service account the roles the platform "
            "stack assigns, or check that the API is enabled in the project",
            store=store,
        )
    if isinstance(error, gx.InvalidArgument | gx.BadRequest | gx.MethodNotImplemented):
        return Misconfigured(f"request refused as invalid: {text}", store=store, key=key)
    if isinstance(error, (gx.GoogleAPICallError, *_TRANSPORT)):
        # 5xx, deadline exceeded, connection refused: the service cannot be reached right now.
        return Unavailable(f"Google Cloud unreachable: {text}", store=store, key=key)
    if isinstance(error, auth_errors.DefaultCredentialsError):
        return Misconfigured(
            f"no Google credentials ({text}); run `gcloud auth application-default login`, set "
            "GOOGLE_APPLICATION_CREDENTIALS, or point every *_endpoint at an emulator",
            store=store,
        )
    return None


def _message(error: BaseException) -> str:
    """One line (errors end up in CLI messages and log lines)."""
    if isinstance(error, gx.GoogleAPICallError):
        text = f"{error.code or ''} {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())
