"""The ingest event schema, and validation that names every bad field.

One pydantic model serves both as the validator and as the OpenAPI description, so the
documentation cannot drift from what the service accepts. Validation is strict: numbers must be
JSON numbers (a string "0.9" is refused, not coerced), unknown fields are refused (they are
usually typos such as `actual_outcome`), and no error echoes the submitted value back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from adapters.clock import from_epoch

IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

RuleId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=IDENT_PATTERN)]
RuleVersion = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=IDENT_PATTERN)]
OrgId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Environment = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=IDENT_PATTERN)]
Repo = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
]


class Outcome(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"


class ActualOutcome(StrEnum):
    FALSE_POSITIVE = "should_not_have_matched"
    FALSE_NEGATIVE = "should_have_matched"
    CORRECT = "correct"


class Claim(BaseModel):
    """What the rule judged. Stored only envelope-encrypted."""

    model_config = ConfigDict(strict=True, extra="allow")

    input: str | dict[str, Any] | list[Any] = Field(
        description="The input the rule evaluated (text or a JSON value)."
    )
    findingid: str | None = Field(
        default=None, max_length=256, description="The finding's stable fingerprint."
    )


class IngestRequest(BaseModel):
    """One calibration event from a certified implementation."""

    model_config = ConfigDict(strict=True, extra="forbid")

    orgid: OrgId = Field(description="The org the event is about (stored encrypted only).")
    token: str = Field(max_length=256, description="The implementation's API key.")
    ruleid: RuleId = Field(examples=["MD-002", "R-X509-CERT-MISMATCH"])
    ruleversion: RuleVersion = Field(examples=["1.0"])
    claim: Claim
    # Literals, not the enums: strict mode would demand enum *instances*, and JSON has strings.
    outcome: Literal["matched", "not_matched"] = Field(description="What the rule decided.")
    actualOutcome: Literal[  # the wire name of the contract
        "should_not_have_matched", "should_have_matched", "correct"
    ] = Field(
        description="What it should have decided: should_not_have_matched is a false positive."
    )
    confidence: float = Field(ge=0.0, le=1.0)
    timestamp: int = Field(description="When the rule ran, milliseconds since the epoch (UTC).")
    environment: Environment = Field(examples=["production"])
    repo: Repo | None = Field(
        default=None, description="owner/name, for repository-scoped consent (optional)."
    )


class FieldError(BaseModel):
    field: str
    message: str


def field_errors(error: ValidationError) -> list[FieldError]:
    """Pydantic's errors as `{field, message}`, without the offending input."""
    result = []
    for detail in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in detail["loc"]) or "(body)"
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = "unknown field; remove it (field names are case-sensitive)"
        result.append(FieldError(field=location, message=message))
    return result


def timestamp_errors(
    timestamp_ms: int, *, now: datetime, skew: timedelta, max_age: timedelta
) -> list[FieldError]:
    """A timestamp in the future beyond the skew, or older than the raw-event TTL, is refused."""
    try:
        moment = from_epoch(timestamp_ms / 1000)
    except (OverflowError, OSError, ValueError):
        return [FieldError(field="timestamp", message="not a valid epoch time in milliseconds")]
    if moment > now + skew:
        return [
            FieldError(
                field="timestamp",
                message=f"is in the future by more than {int(skew.total_seconds())} s; "
                "send milliseconds since the epoch from a synchronised clock",
            )
        ]
    if moment < now - max_age:
        return [
            FieldError(
                field="timestamp",
                message=f"is older than the {max_age.days}-day retention; such events are not accepted",
            )
        ]
    return []
