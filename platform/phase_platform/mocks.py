"""Pulumi mocks that answer like the providers would: realistic ids, ARNs and resource paths.

The program feeds outputs of one resource into another (a table ARN into an IAM policy, a
crypto key path into a bucket's CMEK setting), so the mocks compute those outputs the way AWS
and GCP shape them; assertions on policies then read real-looking values. Invokes the program
makes are answered here too; an unknown invoke fails loudly instead of returning nothing.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import rpc

Outputs = dict[str, Any]

_NAMESPACE = uuid.UUID("5f1c1c52-8f0e-4c4e-9a59-2f1bd1c2a001")


class PlatformMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        *,
        aws_region: str = "us-east-1",
        aws_account_id: str = "123456789012",
        gcp_project: str = "phase-mirror-mock",
        gcp_project_number: str = "210987654321",
    ) -> None:
        self.aws_region = aws_region
        self.aws_account_id = aws_account_id
        self.gcp_project = gcp_project or "phase-mirror-mock"
        self.gcp_project_number = gcp_project_number
        #: Inputs as the engine received them, secrets unwrapped, by (type, logical name).
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        #: Which top-level inputs were secrets, by (type, logical name).
        self.secret_inputs: dict[tuple[str, str], tuple[str, ...]] = {}
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._computed: dict[str, Callable[[str, dict[str, Any]], tuple[str, Outputs]]] = {
            "aws:dynamodb/table:Table": self._aws_table,
            "aws:kms/key:Key": self._aws_key,
            "aws:kms/alias:Alias": lambda n, i: (i["name"], {"arn": self._arn("kms", i["name"])}),
            "aws:ssm/parameter:Parameter": lambda n, i: (
                i["name"],
                {"arn": self._arn("ssm", f"parameter{i['name']}")},
            ),
            "aws:s3/bucket:Bucket": lambda n, i: (
                i["bucket"],
                {
                    "arn": f"arn:aws:s3:::{i['bucket']}",
                    "bucketDomainName": f"{i['bucket']}.s3.amazonaws.com",
                },
            ),
            "aws:sns/topic:Topic": lambda n, i: (
                self._arn("sns", i["name"]),
                {"arn": self._arn("sns", i["name"])},
            ),
            "aws:iam/role:Role": lambda n, i: (
                i["name"],
                {"arn": self._global_arn("iam", f"role/{i['name']}"), "uniqueId": _id(n, "AROA")},
            ),
            "aws:iam/policy:Policy": lambda n, i: (
                self._global_arn("iam", f"policy/{i['name']}"),
                {"arn": self._global_arn("iam", f"policy/{i['name']}")},
            ),
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider": self._aws_oidc,
            "aws:cloudwatch/metricAlarm:MetricAlarm": lambda n, i: (
                i["name"],
                {"arn": self._arn("cloudwatch", f"alarm:{i['name']}", sep=":")},
            ),
            "aws:cloudwatch/compositeAlarm:CompositeAlarm": lambda n, i: (
                i["alarmName"],
                {"arn": self._arn("cloudwatch", f"alarm:{i['alarmName']}", sep=":")},
            ),
            "aws:cloudwatch/dashboard:Dashboard": lambda n, i: (
                i["dashboardName"],
                {"dashboardArn": self._global_arn("cloudwatch", f"dashboard/{i['dashboardName']}")},
            ),
            "aws:backup/vault:Vault": lambda n, i: (
                i["name"],
                {"arn": self._arn("backup", f"backup-vault:{i['name']}", sep=":")},
            ),
            "aws:backup/plan:Plan": self._aws_backup_plan,
            "aws:cloudwatch/logGroup:LogGroup": lambda n, i: (
                i["name"],
                {"arn": self._arn("logs", f"log-group:{i['name']}", sep=":")},
            ),
            "aws:lambda/function:Function": self._aws_function,
            "aws:apigatewayv2/api:Api": self._aws_http_api,
            "aws:apigatewayv2/stage:Stage": self._aws_stage,
            "aws:sqs/queue:Queue": self._aws_queue,
            "aws:scheduler/scheduleGroup:ScheduleGroup": lambda n, i: (
                i["name"],
                {"arn": self._arn("scheduler", f"schedule-group/{i['name']}")},
            ),
            "aws:scheduler/schedule:Schedule": lambda n, i: (
                f"{i['groupName']}/{i['name']}",
                {"arn": self._arn("scheduler", f"schedule/{i['groupName']}/{i['name']}")},
            ),
            "random:index/randomId:RandomId": self._random_id,
            "gcp:firestore/database:Database": lambda n, i: (
                f"projects/{self._project(i)}/databases/{i['name']}",
                {"uid": _id(n)},
            ),
            "gcp:kms/keyRing:KeyRing": lambda n, i: (
                f"projects/{self._project(i)}/locations/{i['location']}/keyRings/{i['name']}",
                {},
            ),
            "gcp:kms/cryptoKey:CryptoKey": lambda n, i: (
                f"{i['keyRing']}/cryptoKeys/{i['name']}",
                {},
            ),
            "gcp:secretmanager/secret:Secret": lambda n, i: (
                f"projects/{self._project(i)}/secrets/{i['secretId']}",
                {"name": f"projects/{self.gcp_project_number}/secrets/{i['secretId']}"},
            ),
            "gcp:secretmanager/secretVersion:SecretVersion": lambda n, i: (
                f"{i['secret']}/versions/1",
                {"name": f"{i['secret']}/versions/1", "version": "1"},
            ),
            "gcp:storage/bucket:Bucket": lambda n, i: (
                i["name"],
                {
                    "url": f"gs://{i['name']}",
                    "selfLink": f"https://www.googleapis.com/storage/v1/b/{i['name']}",
                },
            ),
            "gcp:serviceaccount/account:Account": self._gcp_service_account,
            "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": lambda n, i: self._gcp_named(
                f"projects/{self.gcp_project_number}/locations/global/workloadIdentityPools/"
                f"{i['workloadIdentityPoolId']}"
            ),
            "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": lambda n, i: (
                self._gcp_named(
                    f"projects/{self.gcp_project_number}/locations/global/workloadIdentityPools/"
                    f"{i['workloadIdentityPoolId']}/providers/{i['workloadIdentityPoolProviderId']}"
                )
            ),
            "gcp:projects/serviceIdentity:ServiceIdentity": self._gcp_service_identity,
            "gcp:monitoring/notificationChannel:NotificationChannel": lambda n, i: self._gcp_named(
                f"projects/{self._project(i)}/notificationChannels/{_digits(n)}"
            ),
            "gcp:monitoring/alertPolicy:AlertPolicy": lambda n, i: self._gcp_named(
                f"projects/{self._project(i)}/alertPolicies/{_digits(n)}"
            ),
            "gcp:artifactregistry/repository:Repository": self._gcp_repository,
            "gcp:cloudrunv2/service:Service": self._gcp_run_service,
            "gcp:cloudrunv2/job:Job": lambda n, i: (
                f"projects/{self._project(i)}/locations/{i['location']}/jobs/{i['name']}",
                {"uid": _id(n)},
            ),
        }

    # ------------------------------------------------------------------ pulumi.runtime.Mocks

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = {key: unwrap_secret(value) for key, value in args.inputs.items()}
        secret = tuple(sorted(key for key, value in args.inputs.items() if _is_secret(value)))
        with self._lock:
            self.inputs[(args.typ, args.name)] = inputs
            self.secret_inputs[(args.typ, args.name)] = secret
        compute = self._computed.get(args.typ)
        resource_id, extra = compute(args.name, inputs) if compute else (f"{args.name}-id", {})
        return resource_id, {**inputs, **extra}

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        with self._lock:
            self.invokes.append((args.token, dict(args.args)))
        answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getPartition:getPartition": lambda _: {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            },
            "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": self._gcs_agent,
        }
        answer = answers.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"no mock for invoke {args.token!r}; add it to PlatformMocks.call "
                "(platform/phase_platform/mocks.py)"
            )
        return answer(dict(args.args)), []  # no check failures

    def _caller_identity(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "accountId": self.aws_account_id,
            "arn": self._global_arn("iam", "user/pulumi-mock"),
            "userId": "AIDAMOCKUSER",
            "id": self.aws_account_id,
        }

    def _gcs_agent(self, args: dict[str, Any]) -> dict[str, Any]:
        email = f"service-{self.gcp_project_number}@gs-project-accounts.iam.gserviceaccount.com"
        return {
            "emailAddress": email,
            "member": f"serviceAccount:{email}",
            "project": args.get("project", self.gcp_project),
            "id": email,
        }

    # ------------------------------------------------------------------ shapes

    def _arn(self, service: str, resource: str, *, sep: str = ":") -> str:
        return f"arn:aws:{service}:{self.aws_region}:{self.aws_account_id}{sep}{resource}"

    def _global_arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}::{self.aws_account_id}:{resource}"

    def _aws_table(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        arn = self._arn("dynamodb", f"table/{inputs['name']}")
        return inputs["name"], {"arn": arn}

    def _aws_key(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        key_id = str(uuid.uuid5(_NAMESPACE, name))
        return key_id, {"keyId": key_id, "arn": self._arn("kms", f"key/{key_id}")}

    def _aws_oidc(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        host = str(inputs["url"]).removeprefix("https://")
        arn = self._global_arn("iam", f"oidc-provider/{host}")
        return arn, {"arn": arn}

    def _aws_backup_plan(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        plan_id = str(uuid.uuid5(_NAMESPACE, name))
        return plan_id, {"arn": self._arn("backup", f"backup-plan:{plan_id}"), "version": "1"}

    def _aws_function(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        arn = self._arn("lambda", f"function:{inputs['name']}", sep=":")
        invoke = (
            f"arn:aws:apigateway:{self.aws_region}:lambda:path/2015-03-31/functions/{arn}"
            "/invocations"
        )
        return inputs["name"], {"arn": arn, "invokeArn": invoke, "qualifiedArn": f"{arn}:$LATEST"}

    def _aws_http_api(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        # API ids are 10 lowercase alphanumerics.
        api_id = hashlib.sha256(name.encode()).hexdigest()[:10]
        return api_id, {
            "apiEndpoint": f"https://{api_id}.execute-api.{self.aws_region}.amazonaws.com",
            "executionArn": self._arn("execute-api", api_id),
            "arn": f"arn:aws:apigateway:{self.aws_region}::/apis/{api_id}",
        }

    def _aws_stage(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        api_id, stage = inputs["apiId"], inputs["name"]
        path = "" if stage == "$default" else stage
        return stage, {
            "invokeUrl": f"https://{api_id}.execute-api.{self.aws_region}.amazonaws.com/{path}",
            "executionArn": self._arn("execute-api", f"{api_id}/{stage}"),
        }

    def _aws_queue(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        # A queue's id is its URL.
        url = f"https://sqs.{self.aws_region}.amazonaws.com/{self.aws_account_id}/{inputs['name']}"
        return url, {"arn": self._arn("sqs", inputs["name"], sep=":"), "url": url}

    def _random_id(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        raw = hashlib.sha256(name.encode()).digest()[: int(inputs["byteLength"])]
        b64url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return b64url, {
            "hex": raw.hex(),
            "b64Std": base64.b64encode(raw).decode(),
            "b64Url": b64url,
            "dec": str(int.from_bytes(raw, "big")),
        }

    def _project(self, inputs: dict[str, Any]) -> str:
        return str(inputs.get("project") or self.gcp_project)

    @staticmethod
    def _gcp_named(path: str) -> tuple[str, Outputs]:
        return path, {"name": path}

    def _gcp_service_account(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        project = self._project(inputs)
        email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
        path = f"projects/{project}/serviceAccounts/{email}"
        return path, {
            "email": email,
            "name": path,
            "member": f"serviceAccount:{email}",
            "uniqueId": _digits(name),
        }

    def _gcp_service_identity(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        service = str(inputs["service"]).removesuffix(".googleapis.com")
        # Cloud Run's service agent predates the gcp-sa-* naming.
        domain = "serverless-robot-prod" if service == "run" else f"gcp-sa-{service}"
        email = f"service-{self.gcp_project_number}@{domain}.iam.gserviceaccount.com"
        return email, {"email": email, "member": f"serviceAccount:{email}"}

    def _gcp_repository(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        project, location = self._project(inputs), inputs["location"]
        repository = inputs["repositoryId"]
        path = f"projects/{project}/locations/{location}/repositories/{repository}"
        return path, {
            "name": repository,
            "registryUri": f"{location}-docker.pkg.dev/{project}/{repository}",
        }

    def _gcp_run_service(self, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        project, location = self._project(inputs), inputs["location"]
        uri = f"https://{inputs['name']}-{_digits(name)[:10]}.{location}.run.app"
        path = f"projects/{project}/locations/{location}/services/{inputs['name']}"
        return path, {"uri": uri, "urls": [uri], "uid": _id(name)}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap_secret(value: Any) -> Any:
    """The plain value inside Pulumi's secret envelope, recursively."""
    if _is_secret(value):
        return unwrap_secret(value["value"])
    if isinstance(value, dict):
        return {key: unwrap_secret(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secret(item) for item in value]
    return value


def _id(name: str, prefix: str = "") -> str:
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:16].upper()


def _digits(name: str) -> str:
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:15], 16))
