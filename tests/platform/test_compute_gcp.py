"""The GCP compute under Pulumi's mocks: the Cloud Run service and job, the Cloud Scheduler job,
the Artifact Registry repository and the workloads' identities, on both stacks, exactly as
`adapters.gcp.spec` (`gcp_stack(prefix).compute`) and the stack config describe them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from phase_platform.config import CLOUD_RUN_INGRESS, SETTINGS_BY_KEY, ConfigError, parse_config
from phase_platform.gcp.image import main as image_main
from phase_platform.gcp.image import raw_config, repository
from phase_platform.testing import MOCK_IMAGE, REPO_ROOT, ProgramRun, RegisteredResource

from adapters.catalog import SECRETS, WORKLOADS, AlarmKind, Workload
from adapters.config import ENV_BACKEND
from adapters.gcp.spec import CONTAINER_PORT, HEALTH_PATH, NOT_RENDERED, gcp_stack

from .test_security import IAM_MEMBER_TYPES

RUN_SERVICE = "gcp:cloudrunv2/service:Service"
RUN_JOB = "gcp:cloudrunv2/job:Job"
SCHEDULER = "gcp:cloudscheduler/job:Job"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:kms/cryptoKey:CryptoKey"
INVOKER = "roles/run.invoker"


def _one(run: ProgramRun, type_: str) -> RegisteredResource:
    (found,) = run.of_type(type_)
    return found


def _member(run: ProgramRun, account_id: str) -> str:
    for account in run.of_type(ACCOUNT):
        if account.inputs["accountId"] == account_id:
            return str(account.outputs["member"])
    raise KeyError(account_id)


def _grants(run: ProgramRun, member: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r.type, r.inputs)
        for r in run.resources
        if r.type in IAM_MEMBER_TYPES and r.inputs["member"] == member
    ]


def test_the_service_runs_the_pinned_image_as_its_own_account(gcp_run: ProgramRun) -> None:
    stack = gcp_stack(gcp_run.outputs["prefix"])
    api = stack.compute.service
    service = _one(gcp_run, RUN_SERVICE)
    inputs, key = service.inputs, _one(gcp_run, KEY)
    assert inputs["name"] == api.name == WORKLOADS[Workload.API].physical_name(stack.prefix)
    assert inputs["location"] == gcp_run.outputs["location"]
    template = inputs["template"]
    assert (
        template["serviceAccount"]
        == f"{api.account.account_id}@{gcp_run.outputs['project']}.iam.gserviceaccount.com"
    )
    assert template["timeout"] == f"{WORKLOADS[Workload.API].timeout_seconds}s"
    assert template["encryptionKey"] == key.id  # CMEK with the stack key
    assert template["scaling"] == {"minInstanceCount": 0, "maxInstanceCount": 10}
    (container,) = template["containers"]
    assert container["image"] == MOCK_IMAGE
    assert container["ports"] == {"containerPort": CONTAINER_PORT}
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert container["startupProbe"]["httpGet"] == {"path": HEALTH_PATH, "port": CONTAINER_PORT}
    # Settings only: the backend the stack outputs, the anonymizer loop off (the job runs it).
    env = {e["name"]: e for e in container["envs"]}
    assert env[ENV_BACKEND] == {"name": ENV_BACKEND, "value": gcp_run.outputs["backendUrl"]}
    assert env["PHASE_MIRROR_ANONYMIZE_EVERY_SECONDS"]["value"] == "0"
    assert all("valueSource" not in e for e in container["envs"])  # no secret injected
    # The shipped stacks open the API on purpose (apiPublic, cloudRunIngress: all).
    assert inputs["ingress"] == "INGRESS_TRAFFIC_ALL"
    (public,) = gcp_run.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert public.inputs["member"] == "allUsers"
    assert inputs["deletionProtection"] is (gcp_run.stack == "production")
    assert gcp_run.outputs["serviceUrl"] == service.outputs["uri"] == gcp_run.outputs["apiEndpoint"]
    assert gcp_run.outputs["apiPublic"] is True


def test_the_program_defaults_keep_the_service_private(build: Callable[..., ProgramRun]) -> None:
    """Without the stack files' choice: reachable only internally or through a load balancer,
    and no public invoker."""
    defaults = {key: SETTINGS_BY_KEY[key].default for key in ("apiPublic", "cloudRunIngress")}
    run = build("gcp", "staging", overrides=defaults)
    assert _one(run, RUN_SERVICE).inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert run.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember") == []
    assert run.outputs["apiPublic"] is False


def test_the_cloud_run_agent_may_use_the_key(gcp_run: ProgramRun) -> None:
    key = _one(gcp_run, KEY)
    agents = {
        m.inputs["member"]
        for m in gcp_run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if m.inputs["cryptoKeyId"] == key.id
    }
    assert (
        "serviceAccount:service-210987654321@serverless-robot-prod.iam.gserviceaccount.com"
        in agents
    )
    assert (
        "serviceAccount:service-210987654321@gcp-sa-artifactregistry.iam.gserviceaccount.com"
        in agents
    )
    identities = {
        s.inputs["service"] for s in gcp_run.of_type("gcp:projects/serviceIdentity:ServiceIdentity")
    }
    assert {"run.googleapis.com", "artifactregistry.googleapis.com"} <= identities
    apis = {s.inputs["service"] for s in gcp_run.of_type("gcp:projects/service:Service")}
    assert {
        "run.googleapis.com",
        "cloudscheduler.googleapis.com",
        "artifactregistry.googleapis.com",
    } <= apis


def test_the_job_runs_the_anonymizer_command(gcp_run: ProgramRun) -> None:
    stack = gcp_stack(gcp_run.outputs["prefix"])
    spec = stack.compute.job
    job = _one(gcp_run, RUN_JOB)
    assert job.inputs["name"] == spec.workload.name == gcp_run.outputs["jobName"]
    task = job.inputs["template"]["template"]
    (container,) = task["containers"]
    assert container["image"] == MOCK_IMAGE
    assert [*container["commands"], *container["args"]] == ["python", "-m", "service.runtime.jobs"]
    assert task["timeout"] == f"{WORKLOADS[Workload.ANONYMIZER].timeout_seconds}s"
    assert task["maxRetries"] == spec.max_retries
    assert task["encryptionKey"] == _one(gcp_run, KEY).id
    assert task["serviceAccount"].startswith(f"{spec.workload.account.account_id}@")
    assert {e["name"]: e["value"] for e in container["envs"]} == {
        ENV_BACKEND: gcp_run.outputs["backendUrl"]
    }


def test_the_scheduler_runs_the_job_daily_as_its_own_account(gcp_run: ProgramRun) -> None:
    stack = gcp_stack(gcp_run.outputs["prefix"])
    spec = stack.compute.scheduler
    scheduler = _one(gcp_run, SCHEDULER)
    inputs = scheduler.inputs
    assert inputs["schedule"] == WORKLOADS[Workload.ANONYMIZER].schedule
    assert inputs["timeZone"] == "UTC"
    assert inputs["name"] == gcp_run.outputs["schedulerJobName"]
    project, location = gcp_run.outputs["project"], gcp_run.outputs["location"]
    target = inputs["httpTarget"]
    assert target["httpMethod"] == "POST"
    assert target["uri"] == (
        f"https://run.googleapis.com/v2/projects/{project}/locations/{location}/jobs/"
        f"{stack.compute.job.workload.name}:run"
    )
    email = target["oauthToken"]["serviceAccountEmail"]
    assert email.startswith(f"{spec.account.account_id}@")
    assert inputs["retryConfig"]["retryCount"] == spec.retry_count
    # Its account holds run.invoker on the job and nothing else.
    grants = _grants(gcp_run, f"serviceAccount:{email}")
    assert grants == [
        (
            "gcp:cloudrunv2/jobIamMember:JobIamMember",
            {
                "project": project,
                "location": location,
                "name": stack.compute.job.workload.name,
                "role": INVOKER,
                "member": f"serviceAccount:{email}",
            },
        )
    ]


@pytest.mark.parametrize("workload", list(Workload))
def test_each_workload_account_has_only_what_its_catalog_entry_allows(
    gcp_run: ProgramRun, workload: Workload
) -> None:
    stack = gcp_stack(gcp_run.outputs["prefix"])
    spec = WORKLOADS[workload]
    record = stack.compute.service if workload is Workload.API else stack.compute.job.workload
    member = _member(gcp_run, record.account.account_id)
    grants = _grants(gcp_run, member)
    roles = sorted((type_.split("/")[-1], inputs["role"]) for type_, inputs in grants)
    secret_ids = {inputs["secretId"] for type_, inputs in grants if "secretIamMember" in type_}
    assert secret_ids == {SECRETS[s].physical_name(stack.prefix) for s in spec.secrets}
    expected = [("iAMMember:IAMMember", "roles/datastore.user")]
    expected += (
        [("cryptoKeyIAMMember:CryptoKeyIAMMember", "roles/cloudkms.cryptoKeyEncrypterDecrypter")]
        if spec.uses_key
        else []
    )
    expected += (
        [("bucketIAMMember:BucketIAMMember", "roles/storage.objectUser")]
        if spec.uses_bucket
        else []
    )
    for _ in spec.secrets:
        expected += [
            ("secretIamMember:SecretIamMember", "roles/secretmanager.secretAccessor"),
            ("secretIamMember:SecretIamMember", "roles/secretmanager.viewer"),
        ]
    assert roles == sorted(expected)
    (firestore,) = [i for t, i in grants if t == "gcp:projects/iAMMember:IAMMember"]
    assert firestore["condition"]["expression"] == (
        f'resource.name == "projects/{gcp_run.outputs["project"]}/databases/{stack.database}"'
    )
    for _, inputs in grants:
        if "cryptoKeyId" in inputs:
            assert inputs["cryptoKeyId"] == _one(gcp_run, KEY).id


def test_no_default_compute_account_and_no_keys(gcp_run: ProgramRun) -> None:
    assert not gcp_run.of_type("gcp:serviceaccount/key:Key")
    for resource in (*gcp_run.of_type(RUN_SERVICE), *gcp_run.of_type(RUN_JOB)):
        template = resource.inputs["template"]
        account = (template.get("template") or template)["serviceAccount"]
        assert "-compute@developer.gserviceaccount.com" not in account
    members = {str(r.inputs.get("member", "")) for r in gcp_run.resources}
    assert not [m for m in members if "developer.gserviceaccount.com" in m]


def test_the_repository_is_private_cmek_and_immutable(gcp_run: ProgramRun) -> None:
    repository = _one(gcp_run, REPOSITORY)
    inputs = repository.inputs
    assert inputs["format"] == "DOCKER"
    assert inputs["repositoryId"] == gcp_stack(gcp_run.outputs["prefix"]).compute.repository
    assert inputs["kmsKeyName"] == _one(gcp_run, KEY).id
    assert inputs["dockerConfig"] == {"immutableTags": True}
    (writer,) = gcp_run.of_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert writer.inputs["role"] == "roles/artifactregistry.writer"
    assert (
        writer.inputs["member"] == f"serviceAccount:{gcp_run.outputs['deployServiceAccountEmail']}"
    )
    assert gcp_run.outputs["imageRepository"] == repository.outputs["registryUri"]


def test_the_public_invoker_and_ingress_come_from_config(
    build: Callable[..., ProgramRun],
) -> None:
    run = build(
        "gcp",
        "staging",
        overrides={
            "apiPublic": True,
            "cloudRunIngress": "all",
            "cloudRunMinInstances": 1,
            "cloudRunMaxInstances": 3,
        },
    )
    (public,) = run.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert (public.inputs["role"], public.inputs["member"]) == (INVOKER, "allUsers")
    assert public.inputs["name"] == gcp_stack(run.outputs["prefix"]).compute.service.name
    service = _one(run, RUN_SERVICE)
    assert service.inputs["ingress"] == CLOUD_RUN_INGRESS["all"] == "INGRESS_TRAFFIC_ALL"
    assert service.inputs["template"]["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 3}
    assert run.outputs["apiPublic"] is True


@pytest.mark.parametrize(
    "image",
    [
        "us-central1-docker.pkg.dev/p/r/phase-mirror:v1",  # a tag can move
        "us-central1-docker.pkg.dev/p/r/phase-mirror:latest",
        "us-central1-docker.pkg.dev/p/r/phase-mirror@sha256:" + "0" * 63,
        "phase-mirror@sha256:" + "a" * 64,  # no registry
    ],
)
def test_an_image_not_pinned_by_digest_is_refused_naming_the_key(
    build: Callable[..., ProgramRun], image: str
) -> None:
    with pytest.raises(ConfigError, match=r"phase-mirror:image = .*sha256"):
        build("gcp", "staging", overrides={"image": image})


def test_a_digest_with_a_tag_is_accepted(build: Callable[..., ProgramRun]) -> None:
    image = "us-central1-docker.pkg.dev/p/r/phase-mirror:v1@sha256:" + "b" * 64
    run = build("gcp", "staging", overrides={"image": image})
    assert _one(run, RUN_SERVICE).inputs["template"]["containers"][0]["image"] == image


def test_max_instances_below_min_is_refused(build: Callable[..., ProgramRun]) -> None:
    with pytest.raises(ConfigError, match="cloudRunMaxInstances"):
        build("gcp", "staging", overrides={"cloudRunMinInstances": 5, "cloudRunMaxInstances": 2})


def test_without_an_image_only_the_repository_and_identities_exist(
    build: Callable[..., ProgramRun],
) -> None:
    run = build("gcp", "staging", overrides={"image": ""})
    assert not run.of_type(RUN_SERVICE) and not run.of_type(RUN_JOB)
    assert not run.of_type(SCHEDULER)
    assert run.of_type(REPOSITORY)
    assert {a.inputs["accountId"] for a in run.of_type(ACCOUNT)} >= {
        a.account_id for a in gcp_stack(run.outputs["prefix"]).compute.accounts
    }
    assert run.outputs["serviceUrl"] is None and run.outputs["jobName"] is None
    assert any("image is empty" in line for line in run.log)


def test_every_compute_alarm_kind_is_rendered_or_a_documented_gap() -> None:
    stack = gcp_stack("pm-compute")
    kinds = {policy.kind for policy in stack.policies}
    compute_kinds = {
        AlarmKind.API_ERRORS,
        AlarmKind.API_LATENCY,
        AlarmKind.FUNCTION_ERRORS,
        AlarmKind.FUNCTION_THROTTLES,
        AlarmKind.FUNCTION_DURATION,
        AlarmKind.JOB_FAILURES,
    }
    assert compute_kinds - kinds == set(NOT_RENDERED)
    assert not kinds & set(NOT_RENDERED)
    assert all(reason.strip() for reason in NOT_RENDERED.values())
    by_key = {p.key: p for p in stack.policies}
    ratio = by_key["api-5xx"].condition
    assert 'response_code_class="5xx"' in ratio.filter
    assert ratio.denominator_filter is not None and "response_code" not in ratio.denominator_filter
    assert by_key["api-latency-p99"].condition.aligner == "ALIGN_PERCENTILE_99"
    assert by_key["api-duration-p99"].condition.threshold == 0.8 * 29 * 1000
    assert 'response_code="429"' in by_key["api-throttles"].condition.filter
    failures = by_key["anonymizer-failures"].condition
    assert 'metric.labels.result="failed"' in failures.filter and failures.period_seconds == 3600


def test_the_system_health_policy_covers_the_compute(gcp_run: ProgramRun) -> None:
    stack = gcp_stack(gcp_run.outputs["prefix"])
    health = gcp_run.one(
        "gcp:monitoring/alertPolicy:AlertPolicy", f"phase-mirror-alert-{stack.system_health.key}"
    )
    filters = {c["conditionThreshold"]["filter"] for c in health.inputs["conditions"]}
    assert {p.condition.filter for p in stack.policies} == filters


def test_the_workflow_pushes_where_the_program_creates_the_repository(
    gcp_run: ProgramRun,
) -> None:
    config = parse_config(raw_config(gcp_run.stack))
    assert repository(config) == gcp_run.outputs["imageRepository"]
    stack_file = REPO_ROOT / f"Pulumi.{gcp_run.stack}.yaml"
    scratch = f"pin-test-{gcp_run.stack}"
    copy = REPO_ROOT / f"Pulumi.{scratch}.yaml"
    copy.write_text(stack_file.read_text())
    try:
        digest = "sha256:" + "c" * 64
        assert image_main(["pin", scratch, digest]) == 0
        assert raw_config(scratch)["image"] == f"{repository(config)}/phase-mirror@{digest}"
        assert image_main(["pin", scratch, "latest"]) == 78  # refused, file unchanged
        assert raw_config(scratch)["image"].endswith(digest)
    finally:
        copy.unlink()


def test_the_startup_probe_asks_a_path_the_service_answers() -> None:
    from service.api.routes.health import router

    assert HEALTH_PATH in {getattr(route, "path", None) for route in router.routes}
