"""First-start bootstrap and the bundle of services the API and the CLI share.

`phase-mirror serve` must start with zero configuration on the embedded backend: if the anonymizer
salt or the redaction key does not exist yet, it is created (64 random hex characters, the format
the catalog requires); if no API key exists and the backend has a local data directory (the
embedded one does), one is created and written to a 0600 file there, and the log says how to read
it or make another.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from adapters.backend import Backend
from adapters.catalog import Secret
from adapters.errors import NotFound

from .anonymizer import Pseudonymizer
from .apikeys import ApiKeyService
from .config import CalibrationConfig
from .ingest import IngestService
from .nonces import NonceService

BOOTSTRAP_KEY_FILE = "bootstrap-api-key"
BOOTSTRAP_KEY_NAME = "bootstrap"


@dataclass
class Calibration:
    """Everything the calibration service needs, built once per process."""

    backend: Backend
    config: CalibrationConfig
    keys: ApiKeyService
    pseudonyms: Pseudonymizer
    ingest: IngestService
    nonces: NonceService

    @classmethod
    def build(cls, backend: Backend, config: CalibrationConfig) -> Calibration:
        keys = ApiKeyService(
            backend.api_keys, backend.clock, cache_seconds=config.key_cache_seconds
        )
        pseudonyms = Pseudonymizer(
            backend.secrets, backend.clock, cache_seconds=config.salt_cache_seconds
        )
        return cls(
            backend=backend,
            config=config,
            keys=keys,
            pseudonyms=pseudonyms,
            ingest=IngestService(backend, keys, pseudonyms, config),
            nonces=NonceService(backend.nonces, backend.keys, ttl=config.nonce_ttl),
        )


def ensure_secret(backend: Backend, secret: Secret) -> bool:
    """Create the secret's first version if it has none; True if it was created."""
    try:
        backend.secrets.current(secret)
    except NotFound:
        backend.secrets.put(secret, secrets.token_hex(32))
        return True
    return False


@dataclass(frozen=True)
class BootstrapReport:
    created_secrets: list[str]
    active_keys: int
    bootstrap_key_file: Path | None


def bootstrap(backend: Backend, keys: ApiKeyService) -> BootstrapReport:
    created = [
        s.value for s in (Secret.ANONYMIZER_SALT, Secret.REDACTION_KEY) if ensure_secret(backend, s)
    ]
    active = sum(1 for key in keys.list() if key.active)
    key_file = None
    if active == 0 and backend.data_dir is not None:
        key_file = backend.data_dir / BOOTSTRAP_KEY_FILE
        value, _ = keys.create(BOOTSTRAP_KEY_NAME, "local")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
        active = 1
    return BootstrapReport(created, active, key_file)
