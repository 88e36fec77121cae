"""GCP compute rules: Cloud Run services and jobs, their invokers, Artifact Registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ..compute import (
    containers,
    declared_facets,
    env_pairs,
    pinned_by_digest,
    secret_problem,
    shared_identities,
)
from ..links import owner
from ..props import UNKNOWN, elements, present, read, value
from .base import of_type, resource_rule, stack_rule
from .gcp import DEFAULT_ACCOUNT, PUBLIC_MEMBERS, RUN_JOB_IAM, RUN_SERVICE_IAM

SERVICE = "gcp:cloudrunv2/service:Service"
JOB = "gcp:cloudrunv2/job:Job"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
INGRESS_ALL = "INGRESS_TRAFFIC_ALL"
INVOKER_ROLE = "roles/run.invoker"
#: Where each kind keeps its revision/execution template.
TEMPLATE: dict[str, tuple[str, ...]] = {SERVICE: ("template",), JOB: ("template", "template")}


def _account(workload: PolicyResource) -> object:
    return read(workload.props, *TEMPLATE[workload.resource_type], "serviceAccount")


def _template(args: ResourceValidationArgs, *path: str) -> Any:
    return read(args.props, *TEMPLATE[args.resource_type], *path)


@resource_rule(
    id="PM-GCP-020",
    title="cloud-run-ingress",
    description="Cloud Run services do not take traffic from the internet (ingress `INGRESS_TRAFFIC_ALL`, also the default when unset) unless the service declares it (label `phase-mirror-public` including `ingress`, which the platform writes for `cloudRunIngress: all`).",
    severity=Severity.HIGH,
    remediation="Leave `cloudRunIngress` at internal-and-cloud-load-balancing (ingress INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER) and put an external HTTPS load balancer in front; or set `cloudRunIngress: all`, which labels the service `phase-mirror-public=ingress`.",
    cloud="gcp",
    types=[SERVICE],
    one_cloud_reason="An API Gateway HTTP API has no private mode: its endpoint is always on the internet, so on AWS the question is only who may call a route (PM-AWS-034).",
)
def cloud_run_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    ingress = value(args.props, "ingress", default=INGRESS_ALL)
    if ingress == INGRESS_ALL and "ingress" not in declared_facets(args.props):
        report("the service takes traffic from the whole internet without declaring it", None)


def _grants(resource: PolicyResource) -> Iterator[tuple[object, str]]:
    role = read(resource.props, "role")
    member = read(resource.props, "member")
    if isinstance(member, str):
        yield role, member
    members = elements(resource.props, "members")
    for item in members if isinstance(members, list) else []:
        if isinstance(item, str):
            yield role, item


@stack_rule(
    id="PM-GCP-021",
    title="cloud-run-invoker",
    description="No Cloud Run job grants anything to allUsers or allAuthenticatedUsers; a Cloud Run service does so only with roles/run.invoker and only when it declares it (label `phase-mirror-public` including `invoker`, which the platform writes for `cloudRunPublicInvoker: true`).",
    severity=Severity.CRITICAL,
    remediation="Grant roles/run.invoker to named service accounts (the scheduler's, on the job only); for a public API set `cloudRunPublicInvoker: true`, which adds the allUsers invoker and labels the service `phase-mirror-public=invoker`.",
    cloud="gcp",
    types=[SERVICE, *RUN_SERVICE_IAM, *RUN_JOB_IAM],
    checkov=["CKV_GCP_102"],
    twin="PM-AWS-034",
)
def cloud_run_invoker(args: StackValidationArgs, report: ReportViolation) -> None:
    services = of_type(args.resources, SERVICE)
    for grant in of_type(args.resources, *RUN_SERVICE_IAM, *RUN_JOB_IAM):
        public = [(role, m) for role, m in _grants(grant) if m in PUBLIC_MEMBERS]
        if not public:
            continue
        if grant.resource_type in RUN_JOB_IAM:
            for role, member in public:
                report(f"the job grants {role} to {member}: anyone could start it", grant.urn)
            continue
        service = owner(grant, services, prop="name", identity_props=("name",))
        declared = service is not None and "invoker" in declared_facets(service.props)
        for role, member in public:
            if role is UNKNOWN or (role == INVOKER_ROLE and declared):
                continue
            why = "beyond invoking" if role != INVOKER_ROLE else "without the service declaring it"
            report(f"the service grants {role} to {member} {why}", grant.urn)


@resource_rule(
    id="PM-GCP-022",
    title="cloud-run-service-account",
    description="Cloud Run services and jobs run as a named service account that is not a Google default account (unset means the default compute account).",
    severity=Severity.HIGH,
    remediation="Create one service account per workload and set the template's `service_account` to its email, granting it exactly what the workload needs (as phase_platform does for api and anonymizer).",
    cloud="gcp",
    types=[SERVICE, JOB],
    one_cloud_reason="A Lambda function cannot be created without naming its execution role and AWS has no default compute identity; the roles' rights are checked by PM-AWS-012 and PM-AWS-022.",
)
def cloud_run_service_account(args: ResourceValidationArgs, report: ReportViolation) -> None:
    account = _template(args, "serviceAccount")
    if account is UNKNOWN:
        return
    if not isinstance(account, str) or not account:
        report("no service account: the workload runs as the default compute account", None)
    elif DEFAULT_ACCOUNT.search(account):
        report(f"runs as the default account {account}", None)


@stack_rule(
    id="PM-GCP-029",
    title="cloud-run-dedicated-accounts",
    description="No two Cloud Run services or jobs run as the same service account: each workload has its own identity and rights.",
    severity=Severity.MEDIUM,
    remediation="Give each service and job its own service account (one per catalog workload), so the API cannot use the anonymizer's grants or the reverse.",
    cloud="gcp",
    types=[SERVICE, JOB],
    twin="PM-AWS-042",
)
def cloud_run_dedicated_accounts(args: StackValidationArgs, report: ReportViolation) -> None:
    workloads = of_type(args.resources, SERVICE, JOB)
    for workload, account, first in shared_identities(workloads, _account):
        report(f"{workload.name} runs as {account}, like {first}", workload.urn)


@resource_rule(
    id="PM-GCP-023",
    title="cloud-run-cmek",
    description="Cloud Run services and jobs encrypt their image and revisions with a customer-managed key (the template's `encryption_key`).",
    severity=Severity.MEDIUM,
    remediation="Set the template's `encryption_key=key.id` and grant the Cloud Run service agent (and Artifact Registry's) encrypt/decrypt on the key before creating the service.",
    cloud="gcp",
    types=[SERVICE, JOB],
    twin="PM-AWS-028",
)
def cloud_run_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, *TEMPLATE[args.resource_type], "encryptionKey"):
        report("the workload is encrypted with a Google-managed key", None)


@resource_rule(
    id="PM-GCP-024",
    title="cloud-run-image-digest",
    description="Every container of a Cloud Run service or job names its image by digest (`...@sha256:<64 hex>`), never by a tag alone.",
    severity=Severity.MEDIUM,
    remediation="Deploy `REGISTRY/PATH@sha256:<digest>` (the `image` config refuses anything else; the deploy workflow pins the digest it pushed).",
    cloud="gcp",
    types=[SERVICE, JOB],
    one_cloud_reason="The Lambda functions run the zip uploaded with them (its CodeSha256 is the pin); there is no image reference that could move under them.",
)
def cloud_run_image_digest(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in containers(args.props, *TEMPLATE[args.resource_type]):
        image = read(container, "image")
        if image is not UNKNOWN and not pinned_by_digest(image):
            report(f"image {image} is not pinned by digest: the tag can move", None)


@resource_rule(
    id="PM-GCP-025",
    title="cloud-run-max-instances",
    description="Cloud Run services cap their scaling: `template.scaling.max_instance_count` is set and at least 1.",
    severity=Severity.MEDIUM,
    remediation="Set `template.scaling.max_instance_count` from `cloudRunMaxInstances`: it bounds cost and the load on Firestore, as reserved concurrency and throttling do on AWS.",
    cloud="gcp",
    types=[SERVICE],
    twin="PM-AWS-027",
)
def cloud_run_max_instances(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cap = value(args.props, "template", "scaling", "maxInstanceCount")
    if not isinstance(cap, int | float) or cap < 1:
        report("scaling is not capped (Cloud Run's default allows 100 instances)", None)


@resource_rule(
    id="PM-GCP-026",
    title="cloud-run-env-no-secrets",
    description="No Cloud Run environment variable holds a literal secret (the same tests as PM-AWS-029); values read from Secret Manager (`value_source.secret_key_ref`) pass.",
    severity=Severity.HIGH,
    remediation="Read secrets from Secret Manager at run time (as the service does) or mount them with `value_source={'secret_key_ref': ...}`; never put the value in `envs`.",
    cloud="gcp",
    types=[SERVICE, JOB],
    twin="PM-AWS-029",
)
def cloud_run_env_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in containers(args.props, *TEMPLATE[args.resource_type]):
        for name, literal in env_pairs(elements(container, "envs")):
            problem = secret_problem(name, literal)
            if problem:
                report(f"{problem} in the container environment", None)


@resource_rule(
    id="PM-GCP-027",
    title="artifact-registry-cmek",
    description="Artifact Registry repositories encrypt their artifacts with a customer-managed key (`kms_key_name`).",
    severity=Severity.MEDIUM,
    remediation="Set `kms_key_name=key.id` when creating the repository (it cannot be added later) after granting the Artifact Registry service agent encrypt/decrypt on the key.",
    cloud="gcp",
    types=[REPOSITORY],
    checkov=["CKV_GCP_84"],
    twin="PM-AWS-041",
)
def artifact_registry_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "kmsKeyName"):
        report("the repository is encrypted with a Google-managed key", None)


@resource_rule(
    id="PM-GCP-028",
    title="artifact-registry-immutable-tags",
    description="Docker repositories of Artifact Registry make tags immutable (`docker_config.immutable_tags`).",
    severity=Severity.MEDIUM,
    remediation="Set `docker_config={'immutable_tags': True}` and deploy by digest.",
    cloud="gcp",
    types=[REPOSITORY],
    twin="PM-AWS-040",
)
def artifact_registry_immutable_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "format") not in ("DOCKER", None):
        args.not_applicable("only Docker repositories have tags")
    if value(args.props, "dockerConfig", "immutableTags") is not True:
        report("tags are mutable: a pushed tag can be moved to another image", None)


RULES = (
    cloud_run_ingress,
    cloud_run_invoker,
    cloud_run_service_account,
    cloud_run_cmek,
    cloud_run_image_digest,
    cloud_run_max_instances,
    cloud_run_env_no_secrets,
    artifact_registry_cmek,
    artifact_registry_immutable_tags,
    cloud_run_dedicated_accounts,
)
