"""L0 invariants: one API for single states and batches, each invariant both ways, and the
analysis exits 1 on a violation whatever the flags."""

from __future__ import annotations

import math
import random

import pytest

from adapters.backend import Backend
from service.oracle import l0
from service.oracle.config import OracleConfig, Thresholds
from service.oracle.report_schema import PINNED_SCHEMA_HASH

from .conftest import fixture, run

POLICY = l0.L0Policy(
    schema_hash=PINNED_SCHEMA_HASH,
    drift_ceiling=0.5,
    max_key_age_seconds=90 * 86400,
    min_witness_events=30,
)
GOOD = l0.L0State(
    schema_hash=PINNED_SCHEMA_HASH,
    permission_bits=0x7F,
    drift_magnitude=0.2,
    key_bytes=32,
    key_age_seconds=3600,
)


def bits(**changes: object) -> int:
    from dataclasses import replace

    return l0.check(replace(GOOD, **changes), POLICY)  # type: ignore[arg-type]


def test_good_state_holds() -> None:
    assert l0.check(GOOD, POLICY) == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schema_hash": PINNED_SCHEMA_HASH ^ 1}, l0.SCHEMA_HASH),
        ({"permission_bits": 0x1000 | 0x7F}, l0.PERMISSION_BITS),
        ({"permission_bits": 0x8000}, l0.PERMISSION_BITS),
        ({"permission_bits": 0x0FFF}, 0),
        ({"drift_magnitude": 0.5}, 0),
        ({"drift_magnitude": 0.51}, l0.DRIFT_MAGNITUDE),
        ({"drift_magnitude": -0.1}, l0.DRIFT_MAGNITUDE),
        ({"drift_magnitude": math.nan}, l0.DRIFT_MAGNITUDE),
        ({"key_bytes": 16}, l0.KEY_FRESHNESS),
        ({"key_age_seconds": 91 * 86400}, l0.KEY_FRESHNESS),
        ({"key_age_seconds": math.nan}, l0.KEY_FRESHNESS),
        ({"fpr_before": 0.3, "fpr_after": 0.1, "reviewed_events": 29}, l0.CONTRACTION_WITNESS),
        ({"fpr_before": 0.3, "fpr_after": 0.1, "reviewed_events": 30}, 0),
        (
            {"fpr_before": 0.1, "fpr_after": 0.3, "reviewed_events": 0},
            0,
        ),  # an increase needs no witness
    ],
)
def test_each_invariant(changes: dict[str, object], expected: int) -> None:
    assert bits(**changes) == expected


def test_multiple_violations_are_all_reported() -> None:
    from dataclasses import replace

    state = replace(GOOD, schema_hash=0, permission_bits=0xF000, drift_magnitude=2.0)
    mask = l0.check(state, POLICY)
    assert mask == l0.SCHEMA_HASH | l0.PERMISSION_BITS | l0.DRIFT_MAGNITUDE
    names = [v.invariant for v in l0.describe(mask, state, POLICY)]
    assert names == ["schema_hash", "permission_bits", "drift_magnitude"]


def test_batch_equals_single() -> None:
    rng = random.Random(7)
    states = [
        l0.L0State(
            schema_hash=rng.choice([PINNED_SCHEMA_HASH, 1]),
            permission_bits=rng.choice([0x7F, 0x107F, 0xF000]),
            drift_magnitude=rng.uniform(-0.1, 1.0),
            key_bytes=rng.choice([16, 32]),
            key_age_seconds=rng.uniform(0, 100 * 86400),
            fpr_before=rng.random(),
            fpr_after=rng.random(),
            reviewed_events=rng.randint(0, 60),
        )
        for _ in range(2000)
    ]
    assert l0.check_batch(states, POLICY) == [l0.check(s, POLICY) for s in states]


def test_state_from_json_rejects_unknown_fields() -> None:
    state = l0.state_from_json(
        {"schema_hash": f"{PINNED_SCHEMA_HASH:016x}", "permission_bits": "0x7f"}
    )
    assert state.schema_hash == PINNED_SCHEMA_HASH and state.permission_bits == 0x7F
    with pytest.raises(ValueError, match="unknown L0 state field"):
        l0.state_from_json({"schema_hash": "00", "permission_bits": 0, "drift": 1})
    with pytest.raises(ValueError, match="needs 'permission_bits'"):
        l0.state_from_json({"schema_hash": "00"})


def test_analysis_runs_l0_and_violation_exits_1_even_in_dry_run(keyed_backend: Backend) -> None:
    ok = run(keyed_backend, fixture("md002", "passing"))
    assert ok.report["l0"] == {"ok": True, "bits": 0, "violations": []}
    # a key older than the configured maximum age violates redaction-key freshness
    config = OracleConfig(thresholds=Thresholds(l0_max_key_age_days=0))
    keyed_backend.clock.advance(__import__("datetime").timedelta(seconds=1))  # type: ignore[attr-defined]
    stale = run(keyed_backend, fixture("md002", "passing"), config=config, dry_run=True)
    assert stale.report["l0"]["ok"] is False
    assert [v["invariant"] for v in stale.report["l0"]["violations"]] == ["redaction_key_freshness"]
    assert stale.outcome.value == "block" and stale.exit_code == 1


def test_run_permission_bits_stay_out_of_the_reserved_mask(keyed_backend: Backend) -> None:
    for dry_run in (False, True):
        analysis = run(keyed_backend, fixture("md002", "passing"), dry_run=dry_run)
        assert analysis.report["run"]["permission_bits"] & l0.RESERVED_PERMISSION_MASK == 0
    assert (
        not run(keyed_backend, fixture("md002", "passing"), dry_run=True).report["run"][
            "permission_bits"
        ]
        & l0.PERM_ENFORCE
    )
