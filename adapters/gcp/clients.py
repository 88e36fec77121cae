"""The official Google clients, built once per driver from the settings.

Clients are created on first use, so opening a backend needs no network and no credentials;
a service behind a plaintext `http://` endpoint (an emulator) gets anonymous credentials, every
other one the application-default credentials, resolved once and shared.

Every call gets a bounded retry of transient failures (`RETRY_BUDGET` seconds in all, less
against emulators) and a per-call timeout, so a dead endpoint surfaces as `Unavailable` within
seconds instead of after the libraries' default minute-long retries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

import google.auth
import google.auth.exceptions as auth_errors
import google.cloud.storage as storage  # untyped package: Any to mypy
import requests
from google.api_core import exceptions as gx
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry, if_exception_type
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import kms, secretmanager
from google.cloud.firestore_v1.client import Client as FirestoreClient

from .settings import GcpSettings
from .url import SERVICES, Service

#: Seconds spent retrying transient failures (5xx, connection refused) before `Unavailable`.
RETRY_BUDGET = 3.0
#: The same against emulators on loopback: they answer at once or are down, never flaky.
EMULATOR_RETRY_BUDGET = 0.5
#: Seconds one request may take.
CALL_TIMEOUT = 10.0

T = TypeVar("T")

_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_UNSENT = (gx.ServiceUnavailable, requests.exceptions.ConnectionError, auth_errors.TransportError)
_TRANSIENT = (
    *_UNSENT,
    gx.InternalServerError,
    gx.BadGateway,
    gx.GatewayTimeout,
    gx.DeadlineExceeded,
)


def _retry(kinds: tuple[type[Exception], ...], budget: float) -> Retry:
    return Retry(
        predicate=if_exception_type(*kinds),
        initial=0.05,
        maximum=0.5,
        multiplier=2.0,
        timeout=budget,
    )


class GcpClients:
    def __init__(self, settings: GcpSettings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}
        self._default_credentials: Credentials | None = None
        emulated = all(settings.emulated(service) for service in SERVICES)
        budget = EMULATOR_RETRY_BUDGET if emulated else RETRY_BUDGET
        #: For idempotent calls (reads, disabling a version): every transient failure.
        self.reads = _retry(_TRANSIENT, budget)
        #: For writes that are not idempotent: only failures that prove the request was not
        #: applied (the endpoint refused it, the connection could not be made).
        self.writes = _retry(_UNSENT, budget)

    def credentials(self, service: Service) -> Credentials:
        if self.settings.emulated(service):
            anonymous: Credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            return anonymous
        with self._lock:
            if self._default_credentials is None:
                credentials, _ = google.auth.default(scopes=_SCOPES)
                self._default_credentials = credentials
            return self._default_credentials

    def _options(self, service: Service) -> ClientOptions | None:
        endpoint = self.settings.endpoint(service)
        if endpoint is None:
            return None
        # REST transports take a URL (scheme included); gRPC ones a host.
        rest = service == "storage" or self.settings.transport == "rest"
        return ClientOptions(api_endpoint=endpoint.url if rest else endpoint.host)

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            client: T = self._built[name]
            return client

    @property
    def firestore(self) -> FirestoreClient:
        return self._once("firestore", self._build_firestore)

    def _build_firestore(self) -> FirestoreClient:
        endpoint = self.settings.endpoint("firestore")
        emulated = endpoint is not None and endpoint.plaintext
        client = FirestoreClient(
            project=self.settings.project,
            database=self.settings.database,
            credentials=self.credentials("firestore"),
            client_options=None if emulated else self._options("firestore"),
        )
        if endpoint is not None and emulated:
            # The library reads the emulator host only from FIRESTORE_EMULATOR_HOST when a
            # client is constructed; setting it per client keeps the choice in the backend
            # URL (child processes and several backends need no process-wide state).
            client._emulator_host = endpoint.host
        return client

    @property
    def storage(self) -> storage.Client:
        return self._once(
            "storage",
            lambda: storage.Client(
                project=self.settings.project,
                credentials=self.credentials("storage"),
                client_options=self._options("storage"),
            ),
        )

    @property
    def secrets(self) -> secretmanager.SecretManagerServiceClient:
        return self._once(
            "secrets",
            lambda: secretmanager.SecretManagerServiceClient(
                credentials=self.credentials("secretmanager"),
                transport=self.settings.transport,
                client_options=self._options("secretmanager"),
            ),
        )

    @property
    def kms(self) -> kms.KeyManagementServiceClient:
        return self._once(
            "kms",
            lambda: kms.KeyManagementServiceClient(
                credentials=self.credentials("kms"),
                transport=self.settings.transport,
                client_options=self._options("kms"),
            ),
        )

    def firestore_admin(self) -> Any:
        """A Firestore Admin client (doctor: PITR status, composite indexes); caller closes it."""
        from google.cloud import firestore_admin_v1
        from google.cloud.firestore_admin_v1.services.firestore_admin.transports import (
            FirestoreAdminGrpcTransport,
        )

        endpoint = self.settings.endpoint("firestore")
        if endpoint is not None and endpoint.plaintext:
            import grpc  # type: ignore[import-untyped]

            channel = grpc.insecure_channel(endpoint.host)
            return firestore_admin_v1.FirestoreAdminClient(
                transport=FirestoreAdminGrpcTransport(channel=channel)
            )
        return firestore_admin_v1.FirestoreAdminClient(
            credentials=self.credentials("firestore"), client_options=self._options("firestore")
        )

    def close(self) -> None:
        with self._lock:
            built, self._built = self._built, {}
        for name, client in built.items():
            with suppress(Exception):
                if name == "firestore":
                    # The high-level client has no close(); its GAPIC transport owns the channel.
                    api = getattr(client, "_firestore_api_internal", None)
                    if api is not None:
                        api.transport.close()
                elif name == "storage":
                    client.close()
                else:
                    client.transport.close()
