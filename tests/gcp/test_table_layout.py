"""How items sit in Firestore: document ids, collections, the TTL timestamp mirror, paging."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.backend import Backend
from adapters.catalog import STORES, Store
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound
from adapters.gcp.spec import TTL_TIMESTAMP_FIELD
from adapters.gcp.table import document_id

from .conftest import driver_of

pytestmark = pytest.mark.gcp

CONSENT = STORES[Store.CONSENT]
AWKWARD = ["a/b", ".", "..", "__x__", "a,b", "%2F", "a%b", "é/ü", " ", "x" * 2000]


@given(st.text(min_size=1), st.text())
def test_document_ids_are_always_valid(hash_value: str, range_value: str) -> None:
    doc_id = document_id(CONSENT, {"orgid": hash_value, "sk": range_value})
    assert "/" not in doc_id and doc_id not in (".", "..")
    assert not (doc_id.startswith("__") and doc_id.endswith("__"))
    assert 0 < len(doc_id.encode()) <= 1500


@given(
    st.tuples(st.text(max_size=20), st.text(max_size=20)),
    st.tuples(st.text(max_size=20), st.text(max_size=20)),
)
def test_document_ids_are_injective(a: tuple[str, str], b: tuple[str, str]) -> None:
    ids = [document_id(CONSENT, {"orgid": h, "sk": r}) for h, r in (a, b)]
    assert (ids[0] == ids[1]) == (a == b)


def test_awkward_keys_round_trip(gcp_backend: Backend) -> None:
    table = gcp_backend.table(Store.DEDUP)
    for n, key in enumerate(AWKWARD):
        table.put({"dedupkey": key, "value": str(n)}, if_absent=True)
    for n, key in enumerate(AWKWARD):
        assert table.get({"dedupkey": key}) == {"dedupkey": key, "value": str(n)}
    assert table.take({"dedupkey": "a/b"})["value"] == "0"
    with pytest.raises(NotFound):
        table.take({"dedupkey": "a/b"})


def test_ttl_is_mirrored_into_a_timestamp_field(gcp_backend: Backend, clock: FakeClock) -> None:
    driver = driver_of(gcp_backend)
    spec = STORES[Store.NONCES]
    expires = int(clock.now().timestamp()) + 60
    gcp_backend.table(Store.NONCES).put({"tokenhash": "t", "ttl": expires})
    raw = (
        driver.clients.firestore.collection(f"{driver.settings.prefix}-nonce-store")
        .document(document_id(spec, {"tokenhash": "t"}))
        .get()
        .to_dict()
    )
    assert raw is not None and raw["ttl"] == expires
    assert raw[TTL_TIMESTAMP_FIELD] == datetime.fromtimestamp(expires, UTC)
    # The mirror is an implementation detail: items read back exactly as written.
    assert gcp_backend.table(Store.NONCES).get({"tokenhash": "t"}) == {
        "tokenhash": "t",
        "ttl": expires,
    }
    updated = gcp_backend.table(Store.NONCES).update({"tokenhash": "t"}, {"ttl": expires + 60})
    assert updated["ttl"] == expires + 60
    raw = (
        driver.clients.firestore.collection(f"{driver.settings.prefix}-nonce-store")
        .document(document_id(spec, {"tokenhash": "t"}))
        .get()
        .to_dict()
    )
    assert raw is not None and raw[TTL_TIMESTAMP_FIELD] == datetime.fromtimestamp(expires + 60, UTC)


def test_query_pages_past_expired_items_to_fill_the_limit(
    gcp_backend: Backend, clock: FakeClock
) -> None:
    """No catalog store has both a range key and a TTL today; the driver must still page
    correctly when one does (expired items are dropped client-side)."""
    spec = dataclasses.replace(CONSENT, default_ttl=timedelta(hours=1))
    table = driver_of(gcp_backend).table(spec)
    now = int(clock.now().timestamp())
    for n in range(1200):
        # Most items expired; every 100th one alive.
        table.put({"orgid": "o", "sk": f"s#{n:05d}", "ttl": now + (100 if n % 100 == 0 else -1)})
    live = table.query("o", range_prefix="s#", limit=5)
    assert [item["sk"] for item in live] == [f"s#{n:05d}" for n in range(0, 500, 100)]
    assert len(table.query("o", descending=True)) == 12


def test_conflicting_creates_have_one_winner(gcp_backend: Backend) -> None:
    table = gcp_backend.table(Store.DEDUP)
    table.put({"dedupkey": "once", "value": "a"}, if_absent=True)
    with pytest.raises(Conflict, match="already exists"):
        table.put({"dedupkey": "once", "value": "b"}, if_absent=True)


def test_add_without_deltas_ensures_the_item(gcp_backend: Backend, clock: FakeClock) -> None:
    table = gcp_backend.table(Store.RATE_LIMITS)
    expires = clock.now().timestamp() + 60
    assert table.add({"limitkey": "e"}, {}, expires_at=expires) == {
        "limitkey": "e",
        "ttl": int(expires),
    }
    table.add({"limitkey": "e"}, {"count": 2})
    assert table.add({"limitkey": "e"}, {})["count"] == 2
    # A limit on a field the item lacks counts it as zero.
    assert table.add({"limitkey": "e"}, {"other": 1}, limit=("missing", 0))["other"] == 1
