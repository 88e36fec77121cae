"""Real AWS payloads for the runtime tests, shaped as AWS documents them.

`http_api_event` builds an API Gateway HTTP API (payload format 2.0) request event: `version`,
`routeKey`, `rawPath`, `rawQueryString`, lower-case `headers`, `cookies`, `queryStringParameters`,
`requestContext` (with `http.{method,path,protocol,sourceIp,userAgent}`, `requestId`, `stage`,
`time`, `timeEpoch`), `body` and `isBase64Encoded` (base64 bodies by default, as API Gateway sends
any body it does not treat as text). `LambdaContext` has the attributes of the Python runtime's
context object. `Reply` is one HTTP answer, from the handler or from the app served normally.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

API_ID = "a1b2c3d4e5"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
SOURCE_IP = "203.0.113.7"
_ids = itertools.count(1)


@dataclass
class LambdaContext:
    function_name: str = "phase-mirror-staging-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:phase-mirror-staging-api"
    )
    memory_limit_in_mb: int = 512
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/phase-mirror-staging-api"
    log_stream_name: str = "2026/01/01/[$LATEST]abcdef0123456789"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def http_api_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    base64_body: bool = True,
    source_ip: str = SOURCE_IP,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    raw_query = urlencode(query or {})
    now = time.time()
    all_headers = {
        "accept": "application/json",
        "content-length": str(len(body or b"")),
        "host": DOMAIN,
        "user-agent": "phase-mirror-tests/1.0",
        "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        all_headers["content-type"] = "application/json"
    else:
        del all_headers["content-length"]
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": all_headers["user-agent"],
            },
            "requestId": f"JKJaXmPLvHcESHA{next(_ids)}=",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if raw_query:
        event["queryStringParameters"] = dict(parse_qsl(raw_query))
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        if base64_body:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = body.decode("utf-8")
    return event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    cookies: list[str] = field(default_factory=list)

    @classmethod
    def from_lambda(cls, result: dict[str, Any]) -> Reply:
        raw = result.get("body", "")
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        return cls(result["statusCode"], headers, _decode(data), result.get("cookies") or [])

    @classmethod
    def from_http(cls, status: int, headers: Any, data: bytes) -> Reply:
        return cls(status, {k.lower(): v for k, v in headers.items()}, _decode(data))

    @property
    def code(self) -> Any:
        return self.body.get("code") if isinstance(self.body, dict) else None


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode("utf-8", "replace")
