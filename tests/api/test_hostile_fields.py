"""Every field of every endpoint, read from the app's own OpenAPI document: a hostile value in one
field of an otherwise valid request is answered with a 400 that names that field (401 for a
credential), and no value in any field ever causes a 5xx.

Hypothesis strategies over the request models, in process through the ASGI test client, bounded
(a few hundred requests, well under a minute) and derandomized under CI by the root conftest's
`ci` profile."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.clock import FakeClock
from service.calibration.config import CalibrationConfig
from tests.support.backends import BackendFactory

from .conftest import API_KEY, Api, make_api

_DAY_MS = 86_400_000
INGEST_ORG = "org-ingest-fields"


@dataclass(frozen=True)
class Field:
    method: str
    path: str
    where: str  # "body" | "query"
    name: tuple[str, ...]  # ("claim", "input") for a nested body field

    @property
    def dotted(self) -> str:
        return ".".join(self.name)

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.dotted}"


def _valid_requests(api: Api) -> dict[tuple[str, str], Callable[[], dict[str, Any]]]:
    """A valid request per operation that takes input; the test fails for one missing here.
    Consent changes use their own org, so a revocation never masks an ingest field's check."""
    consent = lambda: {"orgid": "org-consent", "token": API_KEY}  # noqa: E731
    return {
        ("POST", "/api/v1/events/ingest"): lambda: api.event(orgid=INGEST_ORG),
        ("POST", "/api/v1/nonce/request"): lambda: {"orgid": INGEST_ORG, "token": API_KEY},
        ("POST", "/api/v1/nonce/validate"): lambda: {"nonce": "0" * 64},
        ("POST", "/api/v1/consent"): consent,
        ("DELETE", "/api/v1/consent"): consent,
        ("GET", "/api/v1/consent"): lambda: {"orgid": "org-consent"},
        ("GET", "/api/v1/calibration/query"): lambda: {
            "ruleid": "MD-002",
            "ruleversion": "1.0",
            "outcome": "matched",
            "start_ms": str(api.now_ms() - _DAY_MS),
            "end_ms": str(api.now_ms()),
        },
    }


def _fields(spec: dict[str, Any]) -> list[Field]:
    """Every body property (one level into nested objects) and query parameter of the spec."""
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return schemas[ref.rsplit("/", 1)[1]] if ref else schema

    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    found.append(Field(method.upper(), path, "query", (parameter["name"],)))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            model = resolve(content["application/json"]["schema"])
            for name, prop in model["properties"].items():
                found.append(Field(method.upper(), path, "body", (name,)))
                for inner in resolve(prop).get("properties", {}):
                    found.append(Field(method.upper(), path, "body", (name, inner)))
    return found


# Text with unpaired surrogates: not Unicode, so no string field can accept it.
surrogate_text = st.builds(
    lambda a, s, b: a + s + b,
    st.text(max_size=8),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=8),
)
huge_int = st.integers(min_value=10**19, max_value=10**40) | st.integers(
    min_value=-(10**40), max_value=-(10**19)
)
#: A value no body field accepts: every field is a string (refuses surrogates and numbers), a
#: bounded number, or an object.
always_invalid_body = surrogate_text | huge_int
#: A query value no parameter accepts: longer than any limit (and no digits-only millisecond).
always_invalid_query = st.builds(lambda c, n: c * n, st.sampled_from("x/-.:"), st.just(300))

any_text = st.text(max_size=40) | surrogate_text
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | huge_int
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
    | st.sampled_from([API_KEY, "matched", "org", "repo:a/b", "0" * 64])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)
query_values = st.text(max_size=60) | st.integers(min_value=-(2**80), max_value=2**80).map(str)


@pytest.fixture(scope="module")
def api(local_backend_factory: BackendFactory) -> Api:
    clock = FakeClock()
    return make_api(local_backend_factory(clock), clock, CalibrationConfig())


@pytest.fixture(scope="module")
def fields(api: Api) -> list[Field]:
    found = _fields(api.client.app.openapi())  # type: ignore[attr-defined]
    valid = _valid_requests(api)
    operations = {(f.method, f.path) for f in found}
    assert operations == set(valid), "give every operation with input a valid request"
    assert len(found) >= 20  # ingest's 11 + claim's 2, nonces, consent, query parameters
    return found


def _send(api: Api, field: Field, value: Any) -> Any:
    request = _valid_requests(api)[(field.method, field.path)]()
    if field.where == "query":
        request[field.name[0]] = value
        return api.client.request(
            field.method, field.path, params=request, headers={"X-API-Key": API_KEY}
        )
    target = request
    for part in field.name[:-1]:
        target = target[part]
    target[field.name[-1]] = value
    # json.dumps escapes surrogates as \udxxx, exactly what a hostile client sends.
    return api.client.request(field.method, field.path, content=_dumps(request))


def _dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


#: Fields checked together: a range error names the end it reports, whichever end moved.
_RELATED = {"start_ms": ("start_ms", "end_ms"), "end_ms": ("start_ms", "end_ms")}


def _names(body: dict[str, Any], field: Field) -> bool:
    wanted = _RELATED.get(field.dotted, (field.dotted,))
    for error in body.get("errors") or []:
        name = str(error.get("field", ""))
        for want in wanted:
            if name == want or name.startswith(want + ".") or want.startswith(name + "."):
                return True
    return any(want in str(body.get("message", "")) for want in wanted)


def _check(response: Any, field: Field, *, must_reject: bool) -> None:
    assert response.status_code < 500, f"{field}: {response.status_code} {response.text}"
    body = response.json() if response.status_code >= 400 else {}
    if response.status_code == 400:
        assert _names(body, field), f"{field}: the 400 does not name the field: {body}"
    if must_reject:
        allowed = {400, 401} if field.name == ("token",) else {400}
        assert response.status_code in allowed, f"{field}: {response.status_code} {body}"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_invalid_value_in_any_field_is_a_400_naming_it(
    api: Api, fields: list[Field], data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(fields))
    strategy = always_invalid_query if field.where == "query" else always_invalid_body
    value = data.draw(strategy)
    _check(_send(api, field, value), field, must_reject=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_in_any_field_is_never_a_5xx(
    api: Api, fields: list[Field], data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(fields))
    value = data.draw(query_values if field.where == "query" else json_values)
    _check(_send(api, field, value), field, must_reject=False)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/events/ingest", {"claim": {"input": "\ud800"}}, "claim.input"),
        ("/api/v1/events/ingest", {"orgid": "org\udfff"}, "orgid"),
        ("/api/v1/consent", {"expires_at": 10**30}, "expires_at"),
        ("/api/v1/consent", {"expires_at": -(10**30)}, "expires_at"),
        ("/api/v1/nonce/validate", {"nonce": "\udc00" * 3}, "nonce"),
    ],
)
def test_the_reported_inputs_are_400s_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    if path.endswith("ingest"):
        request = api.event(**body)
    elif path.endswith("consent"):
        request = {"orgid": "org-a", "token": API_KEY, **body}
    else:
        request = body
    response = api.client.post(path, content=_dumps(request))
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert field in response.json()["message"]


def test_a_surrogate_in_a_field_name_is_named_without_echoing_it(api: Api) -> None:
    response = api.client.post("/api/v1/events/ingest", content=_dumps(api.event(**{"\ud800": 1})))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "\ufffd (field name)"
