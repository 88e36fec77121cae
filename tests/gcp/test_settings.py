"""`gcp://` settings: names derived from the catalog, endpoints, and clear errors for bad input."""

from __future__ import annotations

import pytest

from adapters.catalog import STORES, Secret, Store
from adapters.config import parse_backend_url
from adapters.errors import Misconfigured
from adapters.gcp.settings import parse_settings

pytestmark = pytest.mark.gcp


def settings(url: str):  # type: ignore[no-untyped-def]
    return parse_settings(parse_backend_url(url))


def test_names_come_from_the_prefix_and_the_catalog() -> None:
    s = settings("gcp://my-project?prefix=pm-staging&location=us-central1")
    assert s.collection(STORES[Store.NONCES]) == "pm-staging-nonce-store"
    assert s.crypto_key_path == (
        "projects/my-project/locations/us-central1/keyRings/pm-staging/cryptoKeys/envelope"
    )
    assert (
        s.secret_path(Secret.REDACTION_KEY)
        == "projects/my-project/secrets/pm-staging-redaction-key"
    )
    assert s.bucket == "pm-staging-baselines"
    assert s.database == "(default)" and s.transport == "grpc" and s.endpoints == {}


def test_emulator_endpoints_choose_rest_and_plaintext() -> None:
    s = settings(
        "gcp://my-project?prefix=pmx&firestore_endpoint=http://127.0.0.1:8080"
        "&kms_endpoint=http://127.0.0.1:9090&secretmanager_endpoint=http://127.0.0.1:9090"
        "&bucket=custom-bucket&database=db2"
    )
    assert s.transport == "rest"
    assert s.emulated("firestore") and s.emulated("kms") and not s.emulated("storage")
    assert s.endpoint("firestore").host == "127.0.0.1:8080"  # type: ignore[union-attr]
    assert s.bucket == "custom-bucket" and s.database == "db2"


def test_tls_endpoint_override_keeps_grpc() -> None:
    s = settings("gcp://my-project?prefix=pmx&kms_endpoint=europe-west1-cloudkms.example.com")
    endpoint = s.endpoint("kms")
    assert endpoint is not None and not endpoint.plaintext
    assert endpoint.url == "https://europe-west1-cloudkms.example.com"
    assert s.transport == "grpc"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("gcp://UPPER?prefix=pmx", "project id"),
        ("gcp://my-project?prefix=pmx&transport=soap", "transport"),
        (
            "gcp://my-project?prefix=pmx&transport=grpc&kms_endpoint=http://127.0.0.1:1",
            "transport=rest",
        ),
        ("gcp://my-project?prefix=pmx&storage_endpoint=ftp://host", "storage_endpoint"),
        ("gcp://my-project?prefix=pmx&location=Europe West", "location"),
    ],
)
def test_bad_settings_name_what_to_fix(url: str, named: str) -> None:
    with pytest.raises(Misconfigured, match=named):
        settings(url)
