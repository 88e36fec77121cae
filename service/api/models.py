"""Request and response bodies, for validation and for the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.calibration.schema import FieldError, IngestRequest, OrgId

ApiToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]
#: The last millisecond a datetime can hold (9999-12-31T23:59:59.999Z), as for queries.
MAX_EPOCH_MS = 253_402_300_799_999


class ErrorBody(BaseModel):
    """Every error: `status`, `code`, `message`, the request id, and route-specific fields."""

    status: str = Field(examples=["error", "rejected"])
    code: str = Field(examples=["UNAVAILABLE", "NOT_FOUND"])
    message: str
    request_id: str | None = None


class IngestAccepted(BaseModel):
    status: Literal["accepted"]
    eventid: str
    stored_at: int = Field(description="Milliseconds since the epoch when the write completed.")
    consent_basis: str = Field(examples=["implicit", "explicit:org"])


class IngestRejected(ErrorBody):
    status: str = "rejected"
    errors: list[FieldError] | None = Field(default=None, description="For INVALID_SCHEMA.")
    prior_eventid: str | None = Field(default=None, description="For DUPLICATE.")


class NonceRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    orgid: OrgId
    token: ApiToken


class NonceIssued(BaseModel):
    status: Literal["ok"]
    nonce: str = Field(description="64 hex characters; shown once, stored only as SHA-256.")
    expires_at: int = Field(description="Milliseconds since the epoch.")
    ttl_seconds: int


class NonceValidateRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    nonce: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class NonceValid(BaseModel):
    status: Literal["ok"]
    valid: Literal[True]
    orgid: str


class NonceInvalid(ErrorBody):
    valid: Literal[False] = False


class ConsentChange(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    orgid: OrgId
    token: ApiToken | None = Field(
        default=None, description="API key; or send it as 'Authorization: Bearer <key>'."
    )
    scope: str = Field(default="org", description="'org' or 'repo:owner/name'.")
    expires_at: int | None = Field(
        default=None,
        ge=0,
        le=MAX_EPOCH_MS,
        description="Grant only: milliseconds since the epoch when it lapses.",
    )


class ConsentRecordBody(BaseModel):
    scope: str
    state: str
    actor: str
    at: int
    expires_at: int | None


class ConsentView(BaseModel):
    status: Literal["ok"]
    orgid: str
    basis: str = Field(description="implicit, explicit:<scope>, revoked or expired.")
    effective: ConsentRecordBody
    history: list[ConsentRecordBody] | None = None


class Interval(BaseModel):
    low: float
    high: float
    level: float


class QueryResult(BaseModel):
    count: int
    k: int
    effective_count: float
    false_positive_rate: float
    false_negative_rate: float
    confidence_interval: Interval


class QueryOk(BaseModel):
    status: Literal["ok"]
    query: dict[str, Any]
    result: QueryResult


class QueryRejected(BaseModel):
    status: Literal["rejected"]
    code: str
    message: str
    reason: Literal["k_too_small"]
    k: int
    minimum: int


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    IngestRequest,
    NonceRequest,
    NonceValidateRequest,
    ConsentChange,
)
