"""Hand-made resource graphs for the rule tests: a compliant AWS stack and a compliant GCP stack,
built from the store catalog, and small helpers to break one property at a time.

They are independent of `phase_platform` on purpose: the rules are specified against the cloud
resource shapes (the engine's camelCase inputs), not against one program's choices.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from phase_policy.findings import Finding, TargetResult
from phase_policy.gate import evaluate_graph
from phase_policy.graph import graph_from_entries
from phase_policy.props import UNKNOWN
from phase_policy.waivers import Waiver

from adapters.aws.spec import key_alias, ssm_parameter_name
from adapters.catalog import BASELINES_BUCKET, SECRETS, STORES
from adapters.gcp.spec import (
    GCP_CRYPTO_KEY,
    TTL_TIMESTAMP_FIELD,
    firestore_indexes,
    secret_manager_id,
)

Entry = dict[str, Any]
PREFIX = "pm-test"
ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f3c6c0e-5b7e-4f59-9a47-1c9f3e1b2d4a"
KEY_NAME = f"projects/pm-test/locations/us-central1/keyRings/{PREFIX}/cryptoKeys/{GCP_CRYPTO_KEY}"
REPO = "PhaseMirror/Phase-Mirror"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
GITHUB = "token.actions.githubusercontent.com"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def github_trust(subjects: Sequence[str] = (f"repo:{REPO}:ref:refs/heads/main",)) -> str:
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": list(subjects),
                }
            },
        }
    )


def data_policy() -> str:
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{PREFIX}-fp-events"
    return _doc(
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": [table, f"{table}/index/by-rule"],
        },
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{PREFIX}-baselines/*"],
        },
    )


def tls_only_policy() -> str:
    bucket = f"arn:aws:s3:::{BASELINES_BUCKET.physical_name(PREFIX)}"
    return _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def aws_stack(*, production: bool = False) -> list[Entry]:
    """A compliant AWS stack: every rule passes on it."""
    protect = production
    parent = "aws"
    entries: list[Entry] = [
        {"type": "phase-mirror:platform:AwsPlatform", "name": parent},
        {
            "type": "aws:kms/key:Key",
            "name": "key",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "enableKeyRotation": True,
                "rotationPeriodInDays": 90,
                "deletionWindowInDays": 30 if production else 7,
            },
        },
        {
            "type": "aws:kms/alias:Alias",
            "name": "key-alias",
            "parent": parent,
            "inputs": {"name": key_alias(PREFIX), "targetKeyId": "0f3c6c0e"},
        },
    ]
    for spec in STORES.values():
        inputs: dict[str, Any] = {
            "name": spec.physical_name(PREFIX),
            "billingMode": "PAY_PER_REQUEST",
            "hashKey": spec.hash_key.name,
            "pointInTimeRecovery": {"enabled": spec.durable},
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "deletionProtectionEnabled": production,
            "tags": {"Store": spec.name, "Durability": "durable" if spec.durable else "ephemeral"},
        }
        if spec.ttl_attribute:
            inputs["ttl"] = {"attributeName": spec.ttl_attribute, "enabled": True}
        entries.append(
            {
                "type": "aws:dynamodb/table:Table",
                "name": f"table-{spec.name}",
                "parent": parent,
                "protect": protect,
                "inputs": inputs,
            }
        )
    for secret, spec in SECRETS.items():
        entries.append(
            {
                "type": "aws:ssm/parameter:Parameter",
                "name": f"parameter-{secret.value}",
                "parent": parent,
                "protect": protect,
                "inputs": {
                    "name": ssm_parameter_name(spec, PREFIX),
                    "type": "SecureString",
                    "keyId": KEY_ARN,
                    "value": "0" * 64,
                },
            }
        )
    bucket_name = BASELINES_BUCKET.physical_name(PREFIX)
    entries += [
        {
            "type": "aws:s3/bucket:Bucket",
            "name": "bucket",
            "parent": parent,
            "protect": protect,
            "inputs": {"bucket": bucket_name, "forceDestroy": False},
        },
        {
            "type": "aws:s3/bucketVersioning:BucketVersioning",
            "name": "bucket-versioning",
            "parent": parent,
            "dependencies": ["bucket"],
            "inputs": {"bucket": bucket_name, "versioningConfiguration": {"status": "Enabled"}},
        },
        {
            "type": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "name": "bucket-encryption",
            "parent": parent,
            "dependencies": ["bucket", "key"],
            "inputs": {
                "bucket": bucket_name,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
        },
        {
            "type": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "name": "bucket-public-access-block",
            "parent": parent,
            "dependencies": ["bucket"],
            "inputs": {
                "bucket": bucket_name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        },
        {
            "type": "aws:s3/bucketPolicy:BucketPolicy",
            "name": "bucket-tls-only",
            "parent": parent,
            "dependencies": ["bucket"],
            "inputs": {"bucket": bucket_name, "policy": tls_only_policy()},
        },
        {
            "type": "aws:sns/topic:Topic",
            "name": "alarms",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-alarms", "kmsMasterKeyId": KEY_ARN},
        },
        {
            "type": "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "name": "github-oidc",
            "parent": parent,
            "inputs": {"url": f"https://{GITHUB}", "clientIdLists": ["sts.amazonaws.com"]},
        },
        {
            "type": "aws:iam/role:Role",
            "name": "deploy-role",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-deploy", "assumeRolePolicy": github_trust()},
        },
        {
            "type": "aws:iam/role:Role",
            "name": "service-role",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-service",
                "assumeRolePolicy": _doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
            },
        },
        {
            "type": "aws:iam/policy:Policy",
            "name": "data-access",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-data-access", "policy": data_policy()},
        },
        {
            "type": "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "name": "service-data-access",
            "parent": parent,
            "inputs": {
                "role": f"{PREFIX}-service",
                "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-data-access",
            },
        },
        {
            "type": "aws:backup/vault:Vault",
            "name": "backup-vault",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-vault", "kmsKeyArn": KEY_ARN},
        },
    ]
    return entries


def gcp_stack(*, production: bool = False) -> list[Entry]:
    """A compliant GCP stack: every rule passes on it."""
    protect = production
    parent = "gcp"
    cmek = {"kmsKeyName": KEY_NAME}
    entries: list[Entry] = [
        {"type": "phase-mirror:platform:GcpPlatform", "name": parent},
        {
            "type": "gcp:firestore/database:Database",
            "name": "firestore",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": PREFIX,
                "type": "FIRESTORE_NATIVE",
                "locationId": "us-central1",
                "pointInTimeRecoveryEnablement": "POINT_IN_TIME_RECOVERY_ENABLED",
                "deleteProtectionState": "DELETE_PROTECTION_ENABLED"
                if production
                else "DELETE_PROTECTION_DISABLED",
                "cmekConfig": cmek,
            },
        },
        {
            "type": "gcp:kms/keyRing:KeyRing",
            "name": "key-ring",
            "parent": parent,
            "protect": protect,
            "inputs": {"name": PREFIX, "location": "us-central1"},
        },
        {
            "type": "gcp:kms/cryptoKey:CryptoKey",
            "name": "key",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": GCP_CRYPTO_KEY,
                "keyRing": KEY_NAME.rsplit("/cryptoKeys/", 1)[0],
                "purpose": "ENCRYPT_DECRYPT",
                "rotationPeriod": "7776000s",
            },
        },
    ]
    for spec in STORES.values():
        collection = spec.physical_name(PREFIX)
        if spec.ttl_attribute:
            entries.append(
                {
                    "type": "gcp:firestore/field:Field",
                    "name": f"ttl-{spec.name}",
                    "parent": parent,
                    "inputs": {
                        "collection": collection,
                        "field": TTL_TIMESTAMP_FIELD,
                        "ttlConfig": {},
                        "database": PREFIX,
                    },
                }
            )
        for index in firestore_indexes(spec):
            entries.append(
                {
                    "type": "gcp:firestore/index:Index",
                    "name": f"index-{spec.name}-{index.hash_field}-{index.range_field}-{index.order}",
                    "parent": parent,
                    "inputs": {
                        "collection": collection,
                        "database": PREFIX,
                        "queryScope": "COLLECTION",
                        "fields": [
                            {"fieldPath": index.hash_field, "order": "ASCENDING"},
                            {"fieldPath": index.range_field, "order": index.order},
                        ],
                    },
                }
            )
    for secret, spec in SECRETS.items():
        entries.append(
            {
                "type": "gcp:secretmanager/secret:Secret",
                "name": f"secret-{secret.value}",
                "parent": parent,
                "protect": protect,
                "inputs": {
                    "secretId": secret_manager_id(spec, PREFIX),
                    "replication": {
                        "userManaged": {
                            "replicas": [
                                {"location": "us-central1", "customerManagedEncryption": cmek}
                            ]
                        }
                    },
                },
            }
        )
    entries += [
        {
            "type": "gcp:storage/bucket:Bucket",
            "name": "bucket",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": BASELINES_BUCKET.physical_name(PREFIX),
                "location": "US-CENTRAL1",
                "uniformBucketLevelAccess": True,
                "publicAccessPrevention": "enforced",
                "versioning": {"enabled": True},
                "encryption": {"defaultKmsKeyName": KEY_NAME},
                "forceDestroy": False,
            },
        },
        {
            "type": "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
            "name": "github-provider",
            "parent": parent,
            "inputs": {
                "workloadIdentityPoolId": f"{PREFIX}-github",
                "workloadIdentityPoolProviderId": "github",
                "attributeCondition": f"assertion.repository == '{REPO}'",
                "oidc": {"issuerUri": f"https://{GITHUB}"},
            },
        },
        {
            "type": "gcp:projects/iAMMember:IAMMember",
            "name": "service-firestore",
            "parent": parent,
            "inputs": {
                "project": "pm-test",
                "role": "roles/datastore.user",
                "member": "serviceAccount:svc@pm-test.iam.gserviceaccount.com",
            },
        },
        {
            "type": "gcp:storage/bucketIAMMember:BucketIAMMember",
            "name": "service-bucket",
            "parent": parent,
            "inputs": {
                "bucket": BASELINES_BUCKET.physical_name(PREFIX),
                "role": "roles/storage.objectAdmin",
                "member": "serviceAccount:svc@pm-test.iam.gserviceaccount.com",
            },
        },
    ]
    return entries


# --------------------------------------------------------------------------- mutation helpers


def find(entries: list[Entry], name: str) -> Entry:
    for entry in entries:
        if entry["name"] == name:
            return entry
    raise KeyError(f"no fixture resource named {name!r}")


def setting(name: str, path: str, new: Any) -> Callable[[list[Entry]], None]:
    """A mutation: set `inputs.<dotted path>` of resource `name` (None deletes it)."""

    def mutate(entries: list[Entry]) -> None:
        target = find(entries, name).setdefault("inputs", {})
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        if new is None:
            target.pop(last, None)
        else:
            target[last] = new

    return mutate


def option(name: str, key: str, new: Any) -> Callable[[list[Entry]], None]:
    def mutate(entries: list[Entry]) -> None:
        find(entries, name)[key] = new

    return mutate


def both(*mutations: Callable[[list[Entry]], None]) -> Callable[[list[Entry]], None]:
    def mutate(entries: list[Entry]) -> None:
        for mutation in mutations:
            mutation(entries)

    return mutate


def stack_of(cloud: str, stack: str) -> list[Entry]:
    production = stack == "production"
    return aws_stack(production=production) if cloud == "aws" else gcp_stack(production=production)


def evaluate(
    entries: list[Entry],
    *,
    cloud: str = "aws",
    stack: str = "staging",
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> TargetResult:
    graph = graph_from_entries(copy.deepcopy(entries), project="phase-mirror", stack=stack)
    return evaluate_graph(cloud, graph, waivers=waivers, today=today or date(2026, 1, 1))


def rule_ids(findings: Sequence[Finding], *, blocking_only: bool = True) -> set[str]:
    return {f.rule_id for f in findings if f.blocking or not blocking_only}


def unknown_everywhere(entries: list[Entry], keys: Sequence[str]) -> list[Entry]:
    """A copy where every input named in `keys` (at any depth) is unknown, as in a preview."""

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: UNKNOWN if k in keys else blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    copied = copy.deepcopy(entries)
    for entry in copied:
        entry["inputs"] = blank(entry.get("inputs", {}))
    return copied
