"""Every name, key, index, TTL attribute, secret, bucket and metric comes from the catalog, on
both clouds and both stacks, and the service reads the same names back from the outputs.

The TypeScript predecessor's Terraform and code disagreed on table keys, TTL attribute names
and the nonce parameter name; these tests make that impossible here.
"""

from __future__ import annotations

import json
from pathlib import Path

from phase_platform.testing import ProgramRun

from adapters.aws.spec import key_alias, metric_alarm_name, ssm_parameter_name
from adapters.catalog import (
    BASELINES_BUCKET,
    METRICS,
    METRICS_NAMESPACE,
    SECRETS,
    STORE_THROTTLING,
    STORES,
    TTL_ATTRIBUTE,
    kebab,
)
from adapters.config import STACK_OUTPUT_BACKEND_URL, from_stack_outputs, parse_backend_url
from adapters.gcp.spec import (
    GCP_CRYPTO_KEY,
    TTL_TIMESTAMP_FIELD,
    firestore_indexes,
    gcp_key_ring,
    log_metric_name,
    secret_manager_id,
)


def _prefix(run: ProgramRun) -> str:
    prefix: str = run.outputs["prefix"]
    return prefix


def test_aws_tables_match_the_catalog(aws_run: ProgramRun) -> None:
    prefix = _prefix(aws_run)
    tables = {r.inputs["name"]: r for r in aws_run.of_type("aws:dynamodb/table:Table")}
    assert set(tables) == {spec.physical_name(prefix) for spec in STORES.values()}
    (key,) = aws_run.of_type("aws:kms/key:Key")
    for spec in STORES.values():
        table = tables[spec.physical_name(prefix)].inputs
        assert table["billingMode"] == "PAY_PER_REQUEST"
        assert table["hashKey"] == spec.hash_key.name
        assert table.get("rangeKey") == (spec.range_key.name if spec.range_key else None)
        assert {a["name"]: a["type"] for a in table["attributes"]} == spec.attribute_definitions()
        indexes = {
            index["name"]: [(k["attributeName"], k["keyType"]) for k in index["keySchemas"]]
            for index in table.get("globalSecondaryIndexes", [])
        }
        assert indexes == {
            index.name: [(index.hash_key.name, "HASH")]
            + ([(index.range_key.name, "RANGE")] if index.range_key else [])
            for index in spec.indexes
        }
        assert all(i["projectionType"] == "ALL" for i in table.get("globalSecondaryIndexes", []))
        if spec.ttl_attribute:
            assert table["ttl"] == {"attributeName": TTL_ATTRIBUTE, "enabled": True}
        else:
            assert "ttl" not in table
        assert table["pointInTimeRecovery"] == {"enabled": spec.durable}
        assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key.outputs["arn"]}
        assert table["tags"] == {
            "Store": spec.name,
            "Durability": "durable" if spec.durable else "ephemeral",
        }


def test_gcp_collections_ttl_and_indexes_match_the_catalog(gcp_run: ProgramRun) -> None:
    prefix = _prefix(gcp_run)
    (database,) = gcp_run.of_type("gcp:firestore/database:Database")
    assert database.inputs["name"] == prefix
    ttl_fields = {
        (f.inputs["collection"], f.inputs["field"]): f
        for f in gcp_run.of_type("gcp:firestore/field:Field")
    }
    assert set(ttl_fields) == {
        (spec.physical_name(prefix), TTL_TIMESTAMP_FIELD)
        for spec in STORES.values()
        if spec.default_ttl is not None
    }
    for field in ttl_fields.values():
        assert field.inputs["database"] == prefix
        assert field.inputs["ttlConfig"] == {}
    indexes = {
        (
            i.inputs["collection"],
            tuple((f["fieldPath"], f["order"]) for f in i.inputs["fields"]),
        )
        for i in gcp_run.of_type("gcp:firestore/index:Index")
    }
    assert indexes == {
        (spec.physical_name(prefix), ((i.hash_field, "ASCENDING"), (i.range_field, i.order)))
        for spec in STORES.values()
        for i in firestore_indexes(spec)
    }
    assert all(
        i.inputs["database"] == prefix and i.inputs["queryScope"] == "COLLECTION"
        for i in gcp_run.of_type("gcp:firestore/index:Index")
    )


def test_secrets_use_the_catalog_names(run: ProgramRun) -> None:
    prefix = _prefix(run)
    if run.cloud == "aws":
        names = {p.inputs["name"] for p in run.of_type("aws:ssm/parameter:Parameter")}
        assert names == {ssm_parameter_name(spec, prefix) for spec in SECRETS.values()}
        assert run.outputs["secretParameterNames"] == {
            secret.value: ssm_parameter_name(spec, prefix) for secret, spec in SECRETS.items()
        }
    else:
        ids = {s.inputs["secretId"] for s in run.of_type("gcp:secretmanager/secret:Secret")}
        assert ids == {secret_manager_id(spec, prefix) for spec in SECRETS.values()}
        assert run.outputs["secretIds"] == {
            secret.value: secret_manager_id(spec, prefix) for secret, spec in SECRETS.items()
        }


def test_bucket_and_key_use_the_catalog_names(run: ProgramRun) -> None:
    prefix = _prefix(run)
    if run.cloud == "aws":
        names = {b.inputs["bucket"] for b in run.of_type("aws:s3/bucket:Bucket")}
        # The baselines bucket, and the log bucket receiving its server access logs.
        assert names == {BASELINES_BUCKET.physical_name(prefix), f"{prefix}-access-logs"}
        (alias,) = run.of_type("aws:kms/alias:Alias")
        assert alias.inputs["name"] == key_alias(prefix) == run.outputs["keyAlias"]
    else:
        (bucket,) = run.of_type("gcp:storage/bucket:Bucket")
        assert bucket.inputs["name"] == BASELINES_BUCKET.physical_name(prefix)
        (ring,) = run.of_type("gcp:kms/keyRing:KeyRing")
        (key,) = run.of_type("gcp:kms/cryptoKey:CryptoKey")
        assert ring.inputs["name"] == gcp_key_ring(prefix)
        assert key.inputs["name"] == GCP_CRYPTO_KEY
        assert run.outputs["cryptoKeyId"].endswith(
            f"/keyRings/{gcp_key_ring(prefix)}/cryptoKeys/{GCP_CRYPTO_KEY}"
        )


def test_aws_alarms_watch_the_catalog_metrics_and_durable_tables(aws_run: ProgramRun) -> None:
    prefix = _prefix(aws_run)
    alarms = aws_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    throttles = {
        (a.inputs["dimensions"]["TableName"], a.inputs["metricName"]): a
        for a in alarms
        if a.inputs.get("namespace") == "AWS/DynamoDB"
    }
    assert set(throttles) == {
        (spec.physical_name(prefix), metric)
        for spec in STORES.values()
        if spec.durable
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
    }
    assert all(a.inputs["threshold"] == STORE_THROTTLING.threshold for a in throttles.values())
    service = {a.inputs["name"]: a for a in alarms if "metricQueries" in a.inputs}
    assert set(service) == {metric_alarm_name(prefix, spec) for spec in METRICS.values()}
    for spec in METRICS.values():
        alarm = service[metric_alarm_name(prefix, spec)]
        (query,) = alarm.inputs["metricQueries"]
        # The EMF lines the service writes use exactly this namespace and metric name.
        assert query["expression"] == f"SELECT SUM({spec.name}) FROM {METRICS_NAMESPACE}"
        assert query["period"] == spec.period_seconds
        assert alarm.inputs["threshold"] == spec.alarm_threshold
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"


def test_gcp_log_metrics_match_what_the_service_logs(gcp_run: ProgramRun) -> None:
    prefix = _prefix(gcp_run)
    metrics = {m.inputs["name"]: m for m in gcp_run.of_type("gcp:logging/metric:Metric")}
    assert set(metrics) == {log_metric_name(spec, prefix) for spec in METRICS.values()}
    for spec in METRICS.values():
        metric = metrics[log_metric_name(spec, prefix)].inputs
        # adapters/metrics.py cloud_logging_line writes {"metric": name, "labels": {...}}.
        assert metric["filter"] == f'jsonPayload.metric="{spec.name}"'
        assert [label["key"] for label in metric["metricDescriptor"].get("labels", [])] == list(
            spec.dimensions
        )
        assert metric.get("labelExtractors", {}) == {
            d: f"EXTRACT(jsonPayload.labels.{d})" for d in spec.dimensions
        }
    policies = {p.name: p for p in gcp_run.of_type("gcp:monitoring/alertPolicy:AlertPolicy")}
    for spec in METRICS.values():
        (condition,) = policies[f"phase-mirror-alert-{kebab(spec.name)}"].inputs["conditions"]
        threshold = condition["conditionThreshold"]
        assert threshold["filter"] == (
            f'metric.type="logging.googleapis.com/user/{log_metric_name(spec, prefix)}"'
        )
        assert threshold["thresholdValue"] == spec.alarm_threshold
    throttle = policies["phase-mirror-alert-firestore-throttles"].inputs["conditions"][0]
    assert f'database_id="{prefix}"' in throttle["conditionThreshold"]["filter"]
    assert throttle["conditionThreshold"]["thresholdValue"] == STORE_THROTTLING.threshold


def test_backend_url_output_is_what_the_service_reads(run: ProgramRun, tmp_path: Path) -> None:
    """`pulumi stack output --json > outputs.json` then PHASE_MIRROR_STACK_OUTPUTS=outputs.json."""
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(run.outputs))
    setting = from_stack_outputs(saved)
    assert setting.url == run.outputs[STACK_OUTPUT_BACKEND_URL]
    assert setting.scheme == run.cloud
    assert setting.prefix == run.outputs["prefix"]
    if run.cloud == "aws":
        assert setting.param("region") == run.outputs["region"]
    else:
        assert setting.location == run.outputs["project"]
        assert setting.param("location") == run.outputs["location"]
        assert setting.param("database") == run.outputs["firestoreDatabase"]
    assert parse_backend_url(setting.url).params == setting.params
