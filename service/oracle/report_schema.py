"""The JSON report's schema (versioned) and its hash, the L0 schema-hash invariant's anchor.

Changing the report's shape means changing this schema, which changes `SCHEMA_HASH`; the test
suite pins the hash so a shape change is always a deliberate, documented version bump.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

SCHEMA_ID: Final = "phase-mirror/report@1"

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_COUNTS = {
    "type": "object",
    "required": ["critical", "high", "medium", "low"],
    "additionalProperties": False,
    "properties": {
        k: {"type": "integer", "minimum": 0} for k in ("critical", "high", "medium", "low")
    },
}
_FINDING = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "rule_id",
        "rule_version",
        "check",
        "severity",
        "message",
        "evidence",
        "remediation",
        "path",
        "line",
        "logical_location",
        "fingerprint",
        "circuit_breaker",
    ],
    "properties": {
        "rule_id": {"type": "string", "pattern": "^MD-[0-9]{3}$"},
        "rule_version": _STR,
        "check": _STR,
        "severity": {"enum": ["critical", "high", "medium", "low"]},
        "message": _STR,
        "evidence": _STR,
        "remediation": _STR,
        "path": _NULLABLE_STR,
        "line": {"type": ["integer", "null"], "minimum": 1},
        "logical_location": _NULLABLE_STR,
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}(#[0-9]+)?$"},
        "circuit_breaker": {"type": "boolean"},
        "suppression": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": ["false_positive"]}},
        },
    },
}

REPORT_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Phase Mirror oracle report",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema",
        "schema_hash",
        "tool",
        "generated_at",
        "repository",
        "run",
        "machine_decision",
        "findings",
        "suppressed",
        "degraded",
        "not_evaluated",
        "rules",
        "drift",
        "fp_events",
        "circuit_breaker",
        "l0",
        "timings",
        "integrity",
    ],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "schema_hash": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": _STR, "version": _STR},
        },
        "generated_at": {"type": "string", "format": "date-time"},
        "repository": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "head_sha", "base_ref", "author"],
            "properties": {
                "name": _STR,
                "head_sha": _NULLABLE_STR,
                "base_ref": _NULLABLE_STR,
                "author": _NULLABLE_STR,
            },
        },
        "run": {
            "type": "object",
            "additionalProperties": False,
            "required": ["mode", "strict", "dry_run", "config", "backend", "permission_bits"],
            "properties": {
                "mode": {"enum": ["pull_request", "merge_group", "drift"]},
                "strict": {"type": "boolean"},
                "dry_run": {"type": "boolean"},
                "config": _NULLABLE_STR,
                "backend": _STR,
                "permission_bits": {"type": "integer", "minimum": 0},
            },
        },
        "machine_decision": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "outcome",
                "exit_code",
                "reasons",
                "counts",
                "limits",
                "suppressed",
                "unable_to_vouch",
                "would_block",
            ],
            "properties": {
                "outcome": {"enum": ["pass", "warn", "block"]},
                "exit_code": {"enum": [0, 1, 2]},
                "reasons": {"type": "array", "items": _STR},
                "counts": _COUNTS,
                "limits": {"type": "object", "additionalProperties": {"type": "integer"}},
                "suppressed": {"type": "integer", "minimum": 0},
                "unable_to_vouch": {"type": "boolean"},
                "would_block": {"type": "boolean"},
            },
        },
        "findings": {"type": "array", "items": _FINDING},
        "suppressed": {"type": "array", "items": _FINDING},
        "degraded": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reason", "detail", "fail", "rule"],
                "properties": {
                    "reason": {"type": "string", "pattern": "^[a-z_]+$"},
                    "detail": _STR,
                    "fail": {"enum": ["open", "closed"]},
                    "rule": _NULLABLE_STR,
                },
            },
        },
        "not_evaluated": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "reason"],
                "properties": {"rule": _STR, "reason": _STR},
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "version", "title", "enabled", "evaluated", "findings", "ms"],
                "properties": {
                    "id": _STR,
                    "version": _STR,
                    "title": _STR,
                    "enabled": {"type": "boolean"},
                    "evaluated": {"type": "boolean"},
                    "findings": {"type": "integer", "minimum": 0},
                    "ms": {"type": "number", "minimum": 0},
                },
            },
        },
        "drift": {
            "type": ["object", "null"],
            "required": [
                "baseline_version",
                "tracked",
                "changed",
                "magnitude",
                "added",
                "removed",
                "modified",
            ],
        },
        "fp_events": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["recorded", "already_recorded"],
            "properties": {
                "recorded": {"type": "integer", "minimum": 0},
                "already_recorded": {"type": "integer", "minimum": 0},
            },
        },
        "circuit_breaker": {
            "type": "object",
            "additionalProperties": False,
            "required": ["threshold_per_hour", "counts", "tripped"],
            "properties": {
                "threshold_per_hour": {"type": "integer", "minimum": 0},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "tripped": {"type": "array", "items": _STR},
            },
        },
        "l0": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "bits", "violations"],
            "properties": {
                "ok": {"type": "boolean"},
                "bits": {"type": "integer", "minimum": 0},
                "violations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["invariant", "detail"],
                        "properties": {"invariant": _STR, "detail": _STR},
                    },
                },
            },
        },
        "timings": {
            "type": "object",
            "required": ["total_ms"],
            "additionalProperties": {"type": "number", "minimum": 0},
        },
        "integrity": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["brand", "alg", "key_version", "mac"],
            "properties": {
                "brand": _STR,
                "alg": {"const": "HMAC-SHA256"},
                "key_version": _STR,
                "mac": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            },
        },
    },
}


def schema_digest(schema: dict[str, Any] = REPORT_SCHEMA) -> int:
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    return int.from_bytes(hashlib.sha256(canonical).digest()[:8], "big")


SCHEMA_HASH: Final[int] = schema_digest()
SCHEMA_HASH_HEX: Final[str] = f"{SCHEMA_HASH:016x}"

#: The schema hash this build was reviewed with. The L0 schema-hash invariant compares the
#: running schema's digest with this literal: editing REPORT_SCHEMA without bumping the pin (and
#: the docs) makes every analysis exit 1 instead of emitting an undocumented report shape.
PINNED_SCHEMA_HASH: Final[int] = 0xEE6D49AC7B1C9D99
