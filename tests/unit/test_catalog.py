"""The store catalog is the single source of names; its contracts are fixed here."""

from __future__ import annotations

import pytest

from adapters import catalog
from adapters.aws.spec import ssm_parameter_name
from adapters.catalog import SECRETS, STORES, Secret, Store
from adapters.gcp.spec import secret_manager_id


def test_every_store_is_declared_once_with_keys() -> None:
    assert set(STORES) == set(Store)
    for spec in STORES.values():
        assert spec.hash_key.name
        assert spec.description
        for index in spec.indexes:
            assert index.hash_key.name in spec.attribute_definitions()


def test_names_follow_prefix_store() -> None:
    spec = STORES[Store.FP_EVENTS]
    assert spec.physical_name("phase-mirror-staging") == "phase-mirror-staging-fp-events"


def test_raw_event_store_contract() -> None:
    spec = STORES[Store.RAW_EVENTS]
    assert spec.physical_name("p-x") == "p-x-consent-store"
    assert [a.name for a in spec.key_attrs] == ["eventid"]
    assert spec.ttl_attribute == "ttl" and spec.default_ttl is not None
    assert spec.default_ttl.days == 30


def test_ephemeral_stores_have_ttl_and_durable_stores_are_listed() -> None:
    for spec in catalog.ephemeral_stores():
        assert spec.ttl_attribute == catalog.TTL_ATTRIBUTE
    assert Store.FP_EVENTS in {s.store for s in catalog.durable_stores()}


def test_secret_names_per_cloud() -> None:
    spec = SECRETS[Secret.REDACTION_KEY]
    assert ssm_parameter_name(spec, "phase-mirror-prod") == "/phase-mirror-prod/redaction-key"
    assert secret_manager_id(spec, "phase-mirror-prod") == "phase-mirror-prod-redaction-key"


@pytest.mark.parametrize("bad", ["", "A", "Phase", "-x-", "ab", "x" * 50, "a_b"])
def test_invalid_prefixes_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid prefix"):
        catalog.validate_prefix(bad)
