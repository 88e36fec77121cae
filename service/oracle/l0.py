"""L0 invariants: the checks no mode, flag or configuration can soften (a violation exits 1).

One API: `check(state, policy) -> violation bits` for a single state and `check_batch` for many,
both running the same comparisons; `describe` turns bits into messages off the hot path. A state
is five facts about a run:

- schema hash: the first 8 bytes of SHA-256 over the canonical report schema, as an integer,
  must equal the policy's (a report produced against another schema is not this oracle's);
- permission bits: the run's capability flags must leave the reserved mask 0xF000 clear;
- drift magnitude: within the hard ceiling (NaN and negatives are violations);
- redaction-key freshness: at least 32 bytes and younger than the maximum age;
- contraction witness: a claimed FPR decrease needs at least N reviewed events behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RESERVED_PERMISSION_MASK = 0xF000

SCHEMA_HASH = 1
PERMISSION_BITS = 2
DRIFT_MAGNITUDE = 4
KEY_FRESHNESS = 8
CONTRACTION_WITNESS = 16

NAMES = {
    SCHEMA_HASH: "schema_hash",
    PERMISSION_BITS: "permission_bits",
    DRIFT_MAGNITUDE: "drift_magnitude",
    KEY_FRESHNESS: "redaction_key_freshness",
    CONTRACTION_WITNESS: "contraction_witness",
}

# Capability flags of an oracle run (the low bits of `permission_bits`).
PERM_READ_REPOSITORY = 0x1
PERM_READ_FP_EVENTS = 0x2
PERM_WRITE_FP_EVENTS = 0x4
PERM_WRITE_BLOCK_COUNTER = 0x8
PERM_READ_BASELINE = 0x10
PERM_WRITE_BASELINE = 0x20
PERM_ENFORCE = 0x40  # may block (not --dry-run)


@dataclass(frozen=True, slots=True)
class L0State:
    schema_hash: int
    permission_bits: int
    drift_magnitude: float = 0.0
    key_bytes: int = 32
    key_age_seconds: float = 0.0
    fpr_before: float = 0.0
    fpr_after: float = 0.0
    reviewed_events: int = 0


@dataclass(frozen=True, slots=True)
class L0Policy:
    schema_hash: int
    drift_ceiling: float = 0.5
    min_key_bytes: int = 32
    max_key_age_seconds: float = 90 * 86400.0
    min_witness_events: int = 30


def check(s: L0State, p: L0Policy) -> int:
    """Violation bits of one state (0: every invariant holds)."""
    bits = 0
    if s.schema_hash != p.schema_hash:
        bits = SCHEMA_HASH
    if s.permission_bits & RESERVED_PERMISSION_MASK:
        bits |= PERMISSION_BITS
    if not 0.0 <= s.drift_magnitude <= p.drift_ceiling:
        bits |= DRIFT_MAGNITUDE
    if s.key_bytes < p.min_key_bytes or not s.key_age_seconds <= p.max_key_age_seconds:
        bits |= KEY_FRESHNESS
    if s.fpr_after < s.fpr_before and s.reviewed_events < p.min_witness_events:
        bits |= CONTRACTION_WITNESS
    return bits


def check_batch(states: Iterable[L0State], p: L0Policy) -> list[int]:
    """`check` over many states (same comparisons, one policy lookup per field)."""
    expected = p.schema_hash
    ceiling = p.drift_ceiling
    min_key = p.min_key_bytes
    max_age = p.max_key_age_seconds
    witnesses = p.min_witness_events
    out: list[int] = []
    append = out.append
    for s in states:
        bits = 0 if s.schema_hash == expected else SCHEMA_HASH
        if s.permission_bits & RESERVED_PERMISSION_MASK:
            bits |= PERMISSION_BITS
        if not 0.0 <= s.drift_magnitude <= ceiling:
            bits |= DRIFT_MAGNITUDE
        if s.key_bytes < min_key or not s.key_age_seconds <= max_age:
            bits |= KEY_FRESHNESS
        if s.fpr_after < s.fpr_before and s.reviewed_events < witnesses:
            bits |= CONTRACTION_WITNESS
        append(bits)
    return out


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str


def describe(bits: int, s: L0State, p: L0Policy) -> list[Violation]:
    out = []
    if bits & SCHEMA_HASH:
        out.append(
            Violation(
                NAMES[SCHEMA_HASH],
                f"schema hash {s.schema_hash:016x} != expected {p.schema_hash:016x}",
            )
        )
    if bits & PERMISSION_BITS:
        out.append(
            Violation(
                NAMES[PERMISSION_BITS],
                f"permission bits 0x{s.permission_bits:04x} set reserved bits "
                f"0x{s.permission_bits & RESERVED_PERMISSION_MASK:04x} (mask 0x{RESERVED_PERMISSION_MASK:04x})",
            )
        )
    if bits & DRIFT_MAGNITUDE:
        out.append(
            Violation(
                NAMES[DRIFT_MAGNITUDE],
                f"drift magnitude {s.drift_magnitude} outside [0, {p.drift_ceiling}]",
            )
        )
    if bits & KEY_FRESHNESS:
        out.append(
            Violation(
                NAMES[KEY_FRESHNESS],
                f"redaction key has {s.key_bytes} bytes (min {p.min_key_bytes}) and is "
                f"{s.key_age_seconds / 86400:.1f} days old (max {p.max_key_age_seconds / 86400:.0f}); rotate it",
            )
        )
    if bits & CONTRACTION_WITNESS:
        out.append(
            Violation(
                NAMES[CONTRACTION_WITNESS],
                f"FPR decrease {s.fpr_before:.4f} -> {s.fpr_after:.4f} claimed with "
                f"{s.reviewed_events} reviewed events (min {p.min_witness_events})",
            )
        )
    return out


def state_from_json(raw: object) -> L0State:
    """An L0State from a JSON object (for `phase-mirror l0 check`); unknown keys are errors."""
    if not isinstance(raw, dict):
        raise ValueError("an L0 state must be a JSON object")
    allowed = set(L0State.__dataclass_fields__)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(
            f"unknown L0 state field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    values = dict(raw)
    for name in ("schema_hash", "permission_bits"):
        value = values.get(name)
        if isinstance(value, str):
            try:
                values[name] = int(value, 16 if name == "schema_hash" else 0)
            except ValueError:
                raise ValueError(f"{name} {value!r} is not a number") from None
    for name in ("schema_hash", "permission_bits"):
        if name not in values:
            raise ValueError(f"an L0 state needs {name!r}")
    try:
        return L0State(**values)
    except TypeError as error:
        raise ValueError(str(error)) from None
