"""POST /api/v1/events/ingest: every response code of the contract, on the local backend."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.catalog import STORES, Secret, Store
from adapters.ports import RawEvent

from .conftest import API_KEY, OTHER_KEY, Api, ApiFactory, advance


def test_accepted_event_is_stored_encrypted_with_a_numeric_30_day_ttl(api: Api) -> None:
    response = api.ingest()
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    assert body["stored_at"] == api.now_ms()
    assert body["consent_basis"] == "implicit"

    item = api.backend.table(Store.RAW_EVENTS).get({"eventid": body["eventid"]})
    assert item is not None
    assert isinstance(item["ttl"], int)
    ttl = STORES[Store.RAW_EVENTS].default_ttl
    assert ttl == timedelta(days=30)
    assert item["ttl"] == int((api.clock.now() + ttl).timestamp())
    assert {"orgid_encrypted", "claim_encrypted"} <= set(item)
    # Nothing stores the org id or the claim in clear.
    stored = json.dumps(item)
    assert "org-a" not in stored
    assert "test-certificate-data" not in stored

    event: RawEvent = api.backend.raw_events.get(body["eventid"])
    aad = body["eventid"].encode()
    assert api.backend.keys.decrypt(event.org_id_encrypted, aad) == b"org-a"
    claim = json.loads(api.backend.keys.decrypt(event.claim_encrypted, aad))
    assert claim == {"input": "test-certificate-data", "findingid": "finding-1"}
    assert event.consent_basis == "implicit"
    assert event.actual_outcome == "should_not_have_matched"


def test_envelope_is_bound_to_its_event_id(api: Api) -> None:
    from adapters.errors import IntegrityError

    eventid = api.ingest().json()["eventid"]
    event = api.backend.raw_events.get(eventid)
    try:
        api.backend.keys.decrypt(event.org_id_encrypted, b"another-event")
    except IntegrityError:
        return
    raise AssertionError("the org id decrypted under another event id")


def test_missing_fields_are_each_named(api: Api) -> None:
    response = api.client.post("/api/v1/events/ingest", json={"orgid": "org-a", "token": API_KEY})
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == ("rejected", "INVALID_SCHEMA")
    assert body["message"]
    named = {error["field"] for error in body["errors"]}
    assert named == {
        "ruleid",
        "ruleversion",
        "claim",
        "outcome",
        "actualOutcome",
        "confidence",
        "timestamp",
        "environment",
    }


def test_wrong_types_and_values_are_named_without_echoing_input(api: Api) -> None:
    response = api.ingest(
        confidence="0.9",
        outcome="maybe",
        timestamp=1.5,
        ruleid="bad#rule",
        claim={"findingid": "x"},
        extra_field=1,
    )
    assert response.status_code == 400
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {
        "confidence",
        "outcome",
        "timestamp",
        "ruleid",
        "claim.input",
        "extra_field",
    }
    assert "0.9" not in json.dumps(response.json())


def test_confidence_out_of_range_and_timestamps_out_of_window(api: Api) -> None:
    assert api.ingest(confidence=1.5).status_code == 400
    future = api.ingest(timestamp=api.now_ms() + 10 * 60 * 1000)
    assert future.status_code == 400
    assert future.json()["errors"][0]["field"] == "timestamp"
    old = api.ingest(timestamp=api.now_ms() - 31 * 24 * 3600 * 1000)
    assert old.status_code == 400
    assert "retention" in old.json()["errors"][0]["message"]
    skewed = api.ingest(timestamp=api.now_ms() + 60 * 1000)
    assert skewed.status_code == 202


def test_non_json_and_non_object_bodies_are_400(api: Api) -> None:
    for raw in (b"not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"):
        response = api.client.post(
            "/api/v1/events/ingest", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, raw
        assert response.json()["code"] in {"INVALID_JSON", "INVALID_SCHEMA"}
        assert response.json()["status"] == "rejected"


def test_invalid_missing_and_revoked_keys_are_401(api: Api) -> None:
    for token in ("invalid-token-xyz", None, 12345, "x" * 1000):
        response = api.ingest(token=token)
        assert response.status_code == 401, token
        assert (response.json()["status"], response.json()["code"]) == (
            "rejected",
            "INVALID_AUTH",
        )
    api.service.keys.revoke("test")
    assert api.ingest().status_code == 401


def test_auth_is_checked_before_the_schema(api: Api) -> None:
    response = api.client.post("/api/v1/events/ingest", json={"token": "nope"})
    assert response.status_code == 401


def test_revoked_consent_is_403_and_nothing_is_stored(api: Api) -> None:
    api.backend.consent.revoke("org-a", actor="test", at=api.clock.now())
    before = sum(1 for _ in api.backend.raw_events.scan())
    response = api.ingest()
    assert response.status_code == 403
    assert response.json()["code"] == "CONSENT_REVOKED"
    assert sum(1 for _ in api.backend.raw_events.scan()) == before


def test_explicit_and_expired_grants(api: Api) -> None:
    now = api.clock.now()
    api.backend.consent.grant("org-a", actor="t", at=now, expires_at=now + timedelta(hours=1))
    accepted = api.ingest()
    assert accepted.json()["consent_basis"] == "explicit:org"
    advance(api.clock, hours=2)
    expired = api.ingest(claim={"input": "other"})
    assert expired.status_code == 403
    assert expired.json()["code"] == "CONSENT_EXPIRED"


def test_repo_scoped_revocation_applies_to_that_repo_only(api: Api) -> None:
    api.backend.consent.revoke("org-a", scope="repo:acme/secret", actor="t", at=api.clock.now())
    api.backend.consent.grant("org-a", actor="t", at=api.clock.now())
    assert api.ingest(repo="acme/secret").status_code == 403
    assert api.ingest(repo="acme/public").status_code == 202


def test_restricted_key_may_only_submit_for_its_org(api: Api) -> None:
    assert api.ingest(token=OTHER_KEY, orgid="org-a").status_code == 202
    response = api.ingest(token=OTHER_KEY, orgid="org-b")
    assert response.status_code == 403
    assert response.json()["code"] == "KEY_NOT_FOR_ORG"


def test_duplicate_claim_is_409_with_the_prior_event_id(api: Api) -> None:
    first = api.ingest()
    second = api.ingest(confidence=0.5, timestamp=api.now_ms() - 1000)
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "DUPLICATE"
    assert body["prior_eventid"] == first.json()["eventid"]
    # Another org, rule or claim is not a duplicate.
    assert api.ingest(orgid="org-b").status_code == 202
    assert api.ingest(ruleid="MD-002").status_code == 202
    assert api.ingest(claim={"input": "other"}).status_code == 202
    # After the 24 h window the same claim is new again.
    advance(api.clock, hours=24, seconds=2)
    assert api.ingest().status_code == 202


def test_duplicate_is_recognised_across_a_salt_rotation(api: Api) -> None:
    first = api.ingest()
    api.backend.secrets.put(Secret.ANONYMIZER_SALT, "ab" * 32)
    api.service.pseudonyms.forget()
    again = api.ingest()
    assert again.status_code == 409
    assert again.json()["prior_eventid"] == first.json()["eventid"]


def test_distinct_org_admission_limit_then_admitted_orgs_still_pass(make: ApiFactory) -> None:
    api = make(orgs_per_key_per_hour=5)
    for n in range(5):
        assert api.ingest(orgid=f"org-{n}").status_code == 202
    throttled = api.ingest(orgid="org-new")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "THROTTLED"
    assert int(throttled.headers["Retry-After"]) >= 1
    # An org already admitted this hour is still accepted.
    assert api.ingest(orgid="org-1", claim={"input": "again"}).status_code == 202
    # Another key has its own budget.
    assert api.ingest(orgid="org-a", token=OTHER_KEY).status_code == 202
    # Next hour, new orgs are admitted again.
    advance(api.clock, hours=1)
    assert api.ingest(orgid="org-new").status_code == 202


def test_per_org_event_limit(make: ApiFactory) -> None:
    api = make(events_per_org_per_hour=3)
    for n in range(3):
        assert api.ingest(claim={"input": f"c{n}"}).status_code == 202
    response = api.ingest(claim={"input": "c4"})
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert api.ingest(orgid="org-b").status_code == 202


def test_throttled_request_leaves_no_dedup_claim(make: ApiFactory) -> None:
    api = make(events_per_org_per_hour=1)
    assert api.ingest(claim={"input": "a"}).status_code == 202
    assert api.ingest(claim={"input": "b"}).status_code == 429
    advance(api.clock, hours=1)
    assert api.ingest(claim={"input": "b"}).status_code == 202


def test_body_over_64_kib_is_413(api: Api) -> None:
    big = api.event(claim={"input": "x" * (64 * 1024)})
    response = api.client.post("/api/v1/events/ingest", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for _ in range(80):
            yield b"x" * 1024

    streamed = api.client.post("/api/v1/events/ingest", content=chunks())
    assert streamed.status_code == 413
