"""POST/DELETE/GET /api/v1/consent: grant, revoke and show an org's consent (API key required)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from adapters.ports import ApiKey, ConsentRecord
from service.calibration.consent import decide, record_as_json, scope_from

from ..errors import ApiError
from ..models import ConsentChange, ConsentView, ErrorBody
from ..plumbing import calibration, json_body, offload, parse_model, read_json, require_key

router = APIRouter(tags=["consent"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "INVALID_JSON or INVALID_REQUEST"},
    401: {"model": ErrorBody, "description": "INVALID_AUTH"},
    403: {"model": ErrorBody, "description": "KEY_NOT_FOR_ORG"},
    503: {"model": ErrorBody, "description": "UNAVAILABLE"},
}


def _scope(text: str, field: str = "scope") -> str:
    try:
        return scope_from(None if text == "org" else text)
    except ValueError as error:
        problem = (
            "not a repository; use owner/name"
            if field == "repo"
            else f"{error}; use 'org' or 'repo:owner/name'"
        )
        raise ApiError(
            400,
            "INVALID_REQUEST",
            f"{field}: {problem}",
            errors=[{"field": field, "message": problem}],
        ) from None


def _check_org(key: ApiKey, org: str) -> None:
    if not key.may_act_for(org):
        raise ApiError(403, "KEY_NOT_FOR_ORG", "this API key may only act for its own org")


async def _change(request: Request) -> tuple[ConsentChange, ApiKey, str]:
    body = parse_model(ConsentChange, await read_json(request))
    key = await require_key(request, body.token)
    _check_org(key, body.orgid)
    return body, key, _scope(body.scope)


async def _view(request: Request, org: str, record: ConsentRecord) -> JSONResponse:
    service = calibration(request)
    now = service.backend.clock.now()
    decision = await offload(
        request, lambda: decide(service.backend.consent, org, repo=None, at=now)
    )
    return JSONResponse(
        {
            "status": "ok",
            "orgid": org,
            "basis": decision.basis,
            "effective": record_as_json(decision.record),
            "changed": record_as_json(record),
        }
    )


@router.post(
    "/api/v1/consent",
    response_model=ConsentView,
    summary="Grant consent (org or repository scope, optional expiry)",
    responses=_ERRORS,
    openapi_extra=json_body(ConsentChange),
)
async def grant(request: Request) -> JSONResponse:
    body, key, scope = await _change(request)
    service = calibration(request)
    now = service.backend.clock.now()
    expires = None
    if body.expires_at is not None:
        expires = datetime.fromtimestamp(body.expires_at / 1000, UTC)
        if expires <= now:
            raise ApiError(400, "INVALID_REQUEST", "expires_at: must be in the future")
    record = await offload(
        request,
        lambda: service.backend.consent.grant(
            body.orgid, scope=scope, actor=f"api-key:{key.name}", at=now, expires_at=expires
        ),
    )
    return await _view(request, body.orgid, record)


@router.delete(
    "/api/v1/consent",
    response_model=ConsentView,
    summary="Revoke consent; new events for the org are refused with 403 CONSENT_REVOKED",
    responses=_ERRORS,
    openapi_extra=json_body(ConsentChange),
)
async def revoke(request: Request) -> JSONResponse:
    body, key, scope = await _change(request)
    if body.expires_at is not None:
        raise ApiError(400, "INVALID_REQUEST", "expires_at: only a grant can expire")
    service = calibration(request)
    now = service.backend.clock.now()
    record = await offload(
        request,
        lambda: service.backend.consent.revoke(
            body.orgid, scope=scope, actor=f"api-key:{key.name}", at=now
        ),
    )
    return await _view(request, body.orgid, record)


@router.get(
    "/api/v1/consent",
    response_model=ConsentView,
    summary="Show an org's effective consent and its history",
    responses=_ERRORS,
)
async def show(
    request: Request,
    orgid: str = Query(min_length=1, max_length=128, description="The org to show."),
    repo: str | None = Query(default=None, description="owner/name, for repository scope."),
) -> JSONResponse:
    """Authenticate with `Authorization: Bearer <API key>` (or `X-API-Key`)."""
    key = await require_key(request, None)
    _check_org(key, orgid)
    service = calibration(request)
    if repo is not None:
        _scope(f"repo:{repo}", "repo")
    now = service.backend.clock.now()
    decision = await offload(
        request, lambda: decide(service.backend.consent, orgid, repo=repo, at=now)
    )
    history = await offload(request, service.backend.consent.history, orgid)
    return JSONResponse(
        {
            "status": "ok",
            "orgid": orgid,
            "basis": decision.basis,
            "effective": record_as_json(decision.record),
            "history": [record_as_json(r) for r in history],
        }
    )
