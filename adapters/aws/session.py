"""Where the AWS backend points (region, endpoint, profile, names) and its boto3 clients.

One `AwsTarget` is derived from the backend setting and shared by every part of the driver, so
every error message can name the same region, endpoint and setting source. Clients are created
lazily (an unused service costs nothing) with bounded retries and timeouts: a dead endpoint
must turn into `Unavailable` within seconds, never hang a request.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from ..catalog import BASELINES_BUCKET
from ..config import BackendSetting
from ..errors import Misconfigured
from .spec import key_alias

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


@dataclass(frozen=True)
class Tuning:
    """Client timeouts and retries. botocore's standard mode retries throttling and transient
    network errors with jittered backoff; `total_max_attempts` bounds it (first try included)."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    total_max_attempts: int = 3
    max_pool_connections: int = 50


@dataclass(frozen=True)
class AwsTarget:
    """Everything the driver needs to know about where its resources live."""

    prefix: str
    region: str
    endpoint: str | None
    profile: str | None
    key_id: str
    bucket: str
    source: str
    url: str

    def where(self) -> str:
        """'region us-east-1 at http://127.0.0.1:5000' - for error messages."""
        return f"region {self.region}" + (f" at {self.endpoint}" if self.endpoint else "")


def resolve_target(setting: BackendSetting) -> AwsTarget:
    """Validate the setting; every problem is a `Misconfigured` naming the setting's source."""
    prefix = setting.prefix
    region = setting.param("region") or os.environ.get("AWS_REGION") or ""
    region = region or os.environ.get("AWS_DEFAULT_REGION") or ""
    if not region:
        setting.require("region")  # raises with an example of the setting
    if not _REGION_RE.match(region):
        raise Misconfigured(
            f"backend setting from {setting.source}: region={region!r} is not an AWS region "
            "name; use e.g. region=us-east-1"
        )
    endpoint = setting.param("endpoint") or None
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Misconfigured(
                f"backend setting from {setting.source}: endpoint={endpoint!r} is not a URL; "
                "use e.g. endpoint=http://127.0.0.1:5000 (an emulator) or leave it out (AWS)"
            )
    return AwsTarget(
        prefix=prefix,
        region=region,
        endpoint=endpoint,
        profile=setting.param("profile") or None,
        key_id=setting.param("kms_key") or key_alias(prefix),
        bucket=setting.param("bucket") or BASELINES_BUCKET.physical_name(prefix),
        source=setting.source,
        url=setting.url,
    )


class Clients:
    """Lazily created, thread-safe-to-share boto3 clients (creation itself is locked: a boto3
    Session is not thread-safe)."""

    def __init__(self, target: AwsTarget, tuning: Tuning) -> None:
        self.target = target
        self.tuning = tuning
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        try:
            self._session = boto3.session.Session(
                profile_name=target.profile, region_name=target.region
            )
        except ProfileNotFound:
            raise Misconfigured(
                f"AWS profile {target.profile!r} (profile= in the backend setting from "
                f"{target.source}) is not in ~/.aws/config; fix the name or drop profile= to use "
                "the default credential chain"
            ) from None
        self._config = Config(
            region_name=target.region,
            connect_timeout=tuning.connect_timeout,
            read_timeout=tuning.read_timeout,
            retries={"mode": "standard", "total_max_attempts": tuning.total_max_attempts},
            max_pool_connections=tuning.max_pool_connections,
            # Emulators serve every bucket from one host: path-style addressing.
            s3={"addressing_style": "path"} if target.endpoint else None,
        )

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                try:
                    client = self._session.client(
                        service,  # type: ignore[call-overload]
                        endpoint_url=self.target.endpoint,
                        config=self._config,
                    )
                except (BotoCoreError, ValueError) as error:
                    raise Misconfigured(
                        f"cannot create the AWS {service} client for {self.target.where()} "
                        f"(setting from {self.target.source}): {error}"
                    ) from None
                self._clients[service] = client
        return client

    @property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    @property
    def kms(self) -> KMSClient:
        client: KMSClient = self._client("kms")
        return client

    @property
    def ssm(self) -> SSMClient:
        client: SSMClient = self._client("ssm")
        return client

    @property
    def s3(self) -> S3Client:
        client: S3Client = self._client("s3")
        return client

    def generic(self, service: str) -> Any:
        """A client for a service used only by doctor/bootstrap (e.g. sts)."""
        return self._client(service)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()
