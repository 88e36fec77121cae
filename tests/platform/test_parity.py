"""The two clouds are equivalent for compute, stack by stack (Pulumi's mocks).

Each cloud's mocked program is reduced to the same facts: which workload serves the API and
whether anyone may call it, which workloads run on which schedule, which alarm conditions are
watched (or documented as impossible on that cloud), and which secrets each workload can read.
`differences` names every fact one cloud has and the other lacks; the stacks must have none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest
from phase_platform.config import CLOUD_RUN_INGRESS
from phase_platform.testing import STACKS, ProgramRun

from adapters.aws.spec import aws_stack
from adapters.catalog import (
    ALARM_INTENTS,
    COMPUTE_ALARMS,
    SECRETS,
    WORKLOADS,
    AlarmKind,
    Secret,
    Workload,
)
from adapters.gcp.spec import NOT_RENDERED, gcp_stack

from .conftest import built

PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}


@dataclass
class ComputeFacts:
    cloud: str
    #: The workload serving the API, with its timeout and memory (None: no API).
    api: tuple[Workload, int, int] | None = None
    #: Anyone on the Internet may call the API (the app still checks API keys).
    api_public: bool = False
    #: Scheduled workloads and their cron (UTC, five fields).
    schedules: dict[Workload, str] = field(default_factory=dict)
    #: Alarm conditions watched, and those documented as impossible on this cloud.
    watched: set[AlarmKind] = field(default_factory=set)
    gaps: dict[AlarmKind, str] = field(default_factory=dict)
    #: The secrets each workload's identity can read.
    secrets: dict[Workload, set[Secret]] = field(default_factory=dict)


def differences(aws: ComputeFacts, gcp: ComputeFacts) -> list[str]:
    """What one cloud has and the other lacks, in words; empty when they are equivalent."""
    found: list[str] = []
    if aws.api != gcp.api:
        found.append(f"API served: aws {aws.api}, gcp {gcp.api}")
    if aws.api_public != gcp.api_public:
        public = "aws" if aws.api_public else "gcp"
        found.append(f"only {public} lets anyone call the API")
    if aws.schedules != gcp.schedules:
        found.append(f"schedules: aws {aws.schedules}, gcp {gcp.schedules}")
    for kind in sorted(set(AlarmKind) - {AlarmKind.SYSTEM_HEALTH}):
        for this, other in ((aws, gcp), (gcp, aws)):
            if kind in this.watched and kind not in other.watched and kind not in other.gaps:
                found.append(
                    f"{this.cloud} watches {kind.value}; {other.cloud} neither watches it nor "
                    "documents why it cannot"
                )
    for workload in sorted(set(aws.secrets) | set(gcp.secrets)):
        mine, theirs = aws.secrets.get(workload, set()), gcp.secrets.get(workload, set())
        if mine != theirs:
            found.append(
                f"{workload.value} reads secrets aws {sorted(s.value for s in mine)}, "
                f"gcp {sorted(s.value for s in theirs)}"
            )
    return found


def _secret_by_name(name: str) -> Secret:
    return next(secret for secret in SECRETS if name.endswith(secret.value))


def aws_facts(run: ProgramRun) -> ComputeFacts:
    prefix = str(run.outputs["prefix"])
    stack = aws_stack(prefix)
    facts = ComputeFacts("aws")
    functions = {f.inputs["name"]: f for f in run.of_type("aws:lambda/function:Function")}
    by_name = {spec.physical_name(prefix): spec for spec in WORKLOADS.values()}
    (api,) = run.of_type("aws:apigatewayv2/api:Api")
    # The function API Gateway may invoke is the one serving the API.
    (permission,) = run.of_type("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    served = str(permission.inputs["function"])
    function = functions[served]
    facts.api = (
        by_name[served].workload,
        int(function.inputs["timeout"]),
        int(function.inputs["memorySize"]),
    )
    routes = run.of_type("aws:apigatewayv2/route:Route")
    facts.api_public = api.inputs["protocolType"] == "HTTP" and any(
        route.inputs.get("authorizationType", "NONE") == "NONE" for route in routes
    )
    for schedule in run.of_type("aws:scheduler/schedule:Schedule"):
        target = schedule.inputs["target"]["arn"].rsplit(":", 1)[-1]
        spec = by_name[target]
        assert spec.schedule is not None
        cron = schedule.inputs["scheduleExpression"]
        # EventBridge's cron(m h dom mon dow year) with '?' back to five Unix fields.
        minute, hour, dom, month, dow, _ = cron.removeprefix("cron(").removesuffix(")").split()
        facts.schedules[spec.workload] = " ".join(
            "*" if part == "?" else part for part in (minute, hour, dom, month, dow)
        )
    declared = {a.inputs["name"] for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    facts.watched = {alarm.kind for alarm in stack.alarms if alarm.name in declared}
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        role = str(policy.inputs["role"])
        workload = next(
            (s for name, s in by_name.items() if role.startswith(f"{name}-function")), None
        )
        if workload is None:
            continue
        readable = {
            _secret_by_name(str(resource).rsplit("/", 1)[-1])
            for statement in json.loads(policy.inputs["policy"])["Statement"]
            if any(str(action).startswith("ssm:GetParameter") for action in statement["Action"])
            for resource in statement["Resource"]
        }
        facts.secrets[workload.workload] = readable
    return facts


def gcp_facts(run: ProgramRun) -> ComputeFacts:
    prefix = str(run.outputs["prefix"])
    stack = gcp_stack(prefix)
    compute = stack.compute
    facts = ComputeFacts("gcp", gaps=dict(NOT_RENDERED))
    (service,) = run.of_type("gcp:cloudrunv2/service:Service")
    container = service.inputs["template"]["containers"][0]
    timeout = int(str(service.inputs["template"]["timeout"]).removesuffix("s"))
    memory = int(container["resources"]["limits"]["memory"].removesuffix("Mi"))
    facts.api = (compute.service.spec.workload, timeout, memory)
    invokers = {
        m.inputs["member"]
        for m in run.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
        if m.inputs["role"] == "roles/run.invoker"
    }
    facts.api_public = bool(invokers & PUBLIC_MEMBERS) and (
        service.inputs.get("ingress") == CLOUD_RUN_INGRESS["all"]
    )
    for job in run.of_type("gcp:cloudscheduler/job:Job"):
        target = job.inputs["httpTarget"]["uri"].rsplit("/", 1)[-1].removesuffix(":run")
        spec = next(s for s in WORKLOADS.values() if s.physical_name(prefix) == target)
        facts.schedules[spec.workload] = job.inputs["schedule"]
    declared = {
        p.inputs["displayName"] for p in run.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    }
    facts.watched = {policy.kind for policy in stack.policies if policy.name in declared}
    project = str(run.outputs["project"])
    accounts = {
        f"serviceAccount:{w.account.account_id}@{project}.iam.gserviceaccount.com": w.spec.workload
        for w in (compute.service, compute.job.workload)
    }
    for member in run.of_type("gcp:secretmanager/secretIamMember:SecretIamMember"):
        workload = accounts.get(member.inputs["member"])
        if workload is not None and member.inputs["role"] == "roles/secretmanager.secretAccessor":
            facts.secrets.setdefault(workload, set()).add(
                _secret_by_name(member.inputs["secretId"])
            )
    return facts


@pytest.fixture(scope="module", params=STACKS)
def facts(request: pytest.FixtureRequest) -> tuple[ComputeFacts, ComputeFacts]:
    # The session's builds (conftest): the same mocked programs the other tests read.
    return aws_facts(built("aws", request.param)), gcp_facts(built("gcp", request.param))


def test_the_clouds_are_equivalent_for_compute(facts: tuple[ComputeFacts, ComputeFacts]) -> None:
    aws, gcp = facts
    assert differences(aws, gcp) == []


def test_the_facts_are_the_catalogs(facts: tuple[ComputeFacts, ComputeFacts]) -> None:
    """Equal is not enough: both must be what the catalog asks for."""
    api = WORKLOADS[Workload.API]
    for cloud in facts:
        assert cloud.api == (Workload.API, api.timeout_seconds, api.memory_mb), cloud.cloud
        assert cloud.schedules == {
            spec.workload: spec.schedule for spec in WORKLOADS.values() if spec.schedule
        }, cloud.cloud
        assert cloud.secrets == {spec.workload: set(spec.secrets) for spec in WORKLOADS.values()}, (
            cloud.cloud
        )
        intended = {intent.kind for intent in (*ALARM_INTENTS, *COMPUTE_ALARMS)}
        assert intended <= cloud.watched | set(cloud.gaps), cloud.cloud
        assert all(reason for reason in cloud.gaps.values())


def test_a_difference_is_named(facts: tuple[ComputeFacts, ComputeFacts]) -> None:
    aws, gcp = facts
    assert differences(aws, replace(gcp, api_public=False)) == ["only aws lets anyone call the API"]
    schedules: dict[Workload, str] = {}
    assert differences(aws, replace(gcp, schedules=schedules))[0].startswith("schedules: aws")
    blind = replace(gcp, watched=gcp.watched - {AlarmKind.API_LATENCY})
    assert differences(aws, blind) == [
        "aws watches api-latency; gcp neither watches it nor documents why it cannot"
    ]
    leaky: dict[Workload, set[Secret]] = {
        **gcp.secrets,
        Workload.API: {*gcp.secrets[Workload.API], Secret.REDACTION_KEY},
    }
    assert differences(aws, replace(gcp, secrets=leaky)) == [
        "api reads secrets aws ['anonymizer-salt'], gcp ['anonymizer-salt', 'redaction-key']"
    ]
