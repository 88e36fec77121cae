"""The AWS backend's URL: `aws://?region=...&prefix=...[&endpoint=...]`. Imports no SDK, so
parsing a setting never loads boto3; the Pulumi program builds its `backendUrl` output here."""

from __future__ import annotations

from ..urls import UrlSpec, host_only

URL_SPEC = UrlSpec(
    scheme="aws",
    params=frozenset({"region", "prefix", "endpoint", "profile", "kms_key", "bucket"}),
    example="aws://?region=us-east-1&prefix=phase-mirror-staging",
    parse_location=host_only,
    sdk_extra="aws",
)


def aws_backend_url(*, region: str, prefix: str) -> str:
    return URL_SPEC.url(params={"region": region, "prefix": prefix})
