"""MetricsStore in the synthesized stacks (the real program under the SDK's mock engine).

Prod declares the AMP workspace with logging to its own log group, Prometheus's and Grafana's
IRSA roles with exactly their actions on that workspace, and the chart writes to it (SigV4)
and reads it (Grafana's data source). Local, dev and staging declare none of it. A second
cluster (another stack naming the workspace) declares no workspace, only its roles on it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.components.metrics_store import MetricsStore, MetricsStoreArgs
from infra.config import EstateConfig, load_stack_file
from infra.plan.metrics_store import AmpPlan, amp_plan
from infra.synth.engine import SynthRun, run_program
from infra.synth.mocks import MOCK_ACCOUNT_ID
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import STACKS, make_config, stack_config

WORKSPACE = "aws:amp/workspace:Workspace"
WORKSPACE_CONFIGURATION = "aws:amp/workspaceConfiguration:WorkspaceConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RELEASE = "kubernetes:helm.sh/v3:Release"
COMPONENT = "blueharvest:observability:MetricsStore"
QUERY_ACTIONS = ["aps:GetLabels", "aps:GetMetricMetadata", "aps:GetSeries", "aps:QueryMetrics"]
EXISTING = "ws-0123abcd-4567-4890-abcd-ef0123456789"

_runs: dict[str, SynthRun] = {}


def _run(stack: str) -> SynthRun:
    if stack not in _runs:
        _runs[stack] = run_program(stack_config(stack), stack)
    return _runs[stack]


def _store_plan(config: EstateConfig) -> AmpPlan:
    plan = amp_plan(config, ())
    assert plan is not None
    return plan


def _of(run: SynthRun, type_: str) -> list[Registration]:
    return [r for r in run.registrations if r.type == type_]


def _one(run: SynthRun, type_: str, **inputs: Any) -> Registration:
    (reg,) = [r for r in _of(run, type_) if all(r.inputs.get(k) == v for k, v in inputs.items())]
    return reg


def _chart_values(run: SynthRun) -> dict[str, Any]:
    release = _one(run, RELEASE, name="kube-prometheus-stack")
    values: dict[str, Any] = release.inputs["values"]
    return values


def _aps_statements(run: SynthRun) -> list[tuple[Registration, dict[str, Any]]]:
    """Every IAM statement of the stack that names an `aps:` action, with its resource."""
    out = []
    for reg in run.registrations:
        document = reg.inputs.get("policy")
        if not (reg.type.startswith("aws:iam/") and isinstance(document, str)):
            continue
        for statement in json.loads(document)["Statement"]:
            actions = statement.get("Action")
            actions = [actions] if isinstance(actions, str) else actions
            if any(a.startswith("aps:") for a in actions):
                out.append((reg, statement))
    return out


def _roles_and_policies(run: SynthRun) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """IRSA role name -> (its trust policy, its one inline policy), for the store's roles."""
    roles = {r.name: r for r in _of(run, ROLE) if r.parent.endswith(f"{COMPONENT}::metrics-store")}
    out = {}
    for role in roles.values():
        (policy,) = [p for p in _of(run, ROLE_POLICY) if p.inputs["role"] == role.inputs["name"]]
        out[role.inputs["name"]] = (
            json.loads(role.inputs["assumeRolePolicy"]),
            json.loads(policy.inputs["policy"]),
        )
    return out


def _workspace_id(run: SynthRun) -> str:
    """The id the engine gave prod's workspace (what its retention configuration names)."""
    workspace_id = str(_one(run, WORKSPACE_CONFIGURATION).inputs["workspaceId"])
    assert workspace_id.startswith("ws-")
    return workspace_id


def test_prod_declares_the_workspace_logging_to_its_own_log_group() -> None:
    run = _run("prod")
    plan = _store_plan(stack_config("prod"))
    workspace = _one(run, WORKSPACE)
    group = _one(run, LOG_GROUP, name=plan.log_group_name)
    assert workspace.inputs["alias"] == "blue-harvest-prod-metrics"
    assert group.inputs["name"] == "/aws/vendedlogs/prometheus/blue-harvest-prod-metrics"
    assert group.inputs["retentionInDays"] == plan.log_retention_days == 30
    # AMP takes the group's ARN with `:*` (pulumi-aws: "The ARN must end with `:*`").
    group_arn = f"arn:aws:logs:us-east-1:{MOCK_ACCOUNT_ID}:log-group:{plan.log_group_name}"
    assert workspace.inputs["loggingConfiguration"] == {"logGroupArn": f"{group_arn}:*"}
    assert group.urn in workspace.depends_on
    retention = _one(run, WORKSPACE_CONFIGURATION)
    assert retention.inputs["retentionPeriodInDays"] == plan.retention_days == 150
    assert workspace.urn in retention.depends_on
    assert workspace.inputs["tags"]["component"] == "metrics-store"


def test_prods_workspace_its_log_group_and_key_are_protected_and_kept_like_the_logs() -> None:
    run = _run("prod")
    stateful = [
        _one(run, WORKSPACE),
        _one(run, LOG_GROUP, name=_store_plan(stack_config("prod")).log_group_name),
    ]
    key = [r for r in _of(run, "aws:kms/key:Key") if r.name == "metrics-store-logs-key"]
    assert len(key) == 1
    for reg in [*stateful, *key]:
        assert (reg.protect, reg.retain_on_delete) == (True, True), reg.name
    # logs.encrypt: the workspace's log group has its own key, usable for that group only.
    (group,) = [r for r in stateful if r.type == LOG_GROUP]
    assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{MOCK_ACCOUNT_ID}:key/")
    key_policy = json.loads(key[0].inputs["policy"])
    condition = key_policy["Statement"][1]["Condition"]["ArnLike"]
    assert condition["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:/aws/vendedlogs/prometheus/blue-harvest-prod-metrics"
    )


def test_prods_roles_have_exactly_their_actions_on_that_workspace_only() -> None:
    run = _run("prod")
    plan = _store_plan(stack_config("prod"))
    workspace_arn = f"arn:aws:aps:us-east-1:{MOCK_ACCOUNT_ID}:workspace/{_workspace_id(run)}"
    roles = _roles_and_policies(run)
    assert set(roles) == {
        "blue-harvest-prod-bh-prod-prometheus-amp",
        "blue-harvest-prod-bh-prod-grafana-amp",
    }
    expected = {
        plan.prometheus_role_name: ("kube-prometheus-stack-prometheus", ["aps:RemoteWrite"]),
        plan.grafana_role_name: ("kube-prometheus-stack-grafana", QUERY_ACTIONS),
    }
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/PRD0EXAMPLE"
    for name, (service_account, actions) in expected.items():
        trust, policy = roles[name]
        (trusted,) = trust["Statement"]
        assert trusted["Principal"] == {"Federated": plan.oidc_provider_arn}
        assert trusted["Condition"]["StringEquals"] == {
            f"{issuer}:aud": "sts.amazonaws.com",
            f"{issuer}:sub": f"system:serviceaccount:monitoring:{service_account}",
        }
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Allow"
        assert sorted(statement["Action"]) == actions
        assert statement["Resource"] == workspace_arn
    # No other IAM document of the stack grants anything on AMP.
    assert len(_aps_statements(run)) == 2


def test_each_role_trusts_the_service_account_the_chart_annotates_with_it() -> None:
    run = _run("prod")
    values = _chart_values(run)
    roles = _roles_and_policies(run)
    for part in ("prometheus", "grafana"):
        account = values[part]["serviceAccount"]
        role_arn = account["annotations"]["eks.amazonaws.com/role-arn"]
        role_name = role_arn.rsplit("/", 1)[1]
        # The role the chart's pods assume is one this stack declares, and it trusts exactly
        # that service account (the chart names it explicitly).
        trust, _ = roles[role_name]
        (statement,) = trust["Statement"]
        (subject,) = [
            v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
        ]
        assert subject == f"system:serviceaccount:monitoring:{account['name']}"


def test_prods_chart_writes_to_the_workspace_with_sigv4_and_grafana_reads_it() -> None:
    run = _run("prod")
    endpoint = f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{_workspace_id(run)}/"
    values = _chart_values(run)
    (remote,) = values["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert remote["url"] == f"{endpoint}api/v1/remote_write"
    # SigV4 with the region alone: the pod's IRSA identity signs, no keys, no profile.
    assert remote["sigv4"] == {"region": "us-east-1"}
    assert remote["writeRelabelConfigs"][0]["action"] == "keep"
    (amp,) = [s for s in values["grafana"]["additionalDataSources"] if s["uid"] == "bh-amp"]
    assert amp["url"] == endpoint
    assert amp["jsonData"]["sigV4Auth"] is True
    assert amp["jsonData"]["sigV4Region"] == "us-east-1"
    assert not {"sigV4AccessKey", "sigV4SecretKey"} & set(amp.get("secureJsonData", {}))
    # The chart waits for the roles and their policies, so Prometheus never starts writing
    # (nor Grafana querying) before it may.
    release = _one(run, RELEASE, name="kube-prometheus-stack")
    for policy in _of(run, ROLE_POLICY):
        if policy.parent.endswith("::metrics-store"):
            assert policy.urn in release.depends_on


def test_prods_synth_files_show_the_workspace_and_the_remote_write() -> None:
    files = render_files(_run("prod"))
    amp = json.loads(files["aws/amp.json"])
    assert sorted(e["type"] for e in amp) == [WORKSPACE, WORKSPACE_CONFIGURATION]
    helm = yaml.safe_load(files["helm/kube-prometheus-stack.values.yaml"])
    assert helm["prometheus"]["prometheusSpec"]["remoteWrite"][0]["name"] == "amp"


@pytest.mark.parametrize("stack", ["local", "dev", "staging"])
def test_stacks_without_a_remote_store_declare_none_of_it(stack: str) -> None:
    run = _run(stack)
    assert not [r for r in run.registrations if r.type.startswith("aws:amp/")]
    assert not _of(run, COMPONENT)
    assert not _aps_statements(run)
    values = _chart_values(run)
    assert "remoteWrite" not in values["prometheus"]["prometheusSpec"]
    uids = [s["uid"] for s in values["grafana"].get("additionalDataSources", [])]
    assert "bh-amp" not in uids
    assert not any("aps-workspaces" in json.dumps(r.inputs) for r in run.registrations)


def _second_cluster(tmp_path: Path) -> SynthRun:
    """A second prod cluster (stack prod-eu) writing to prod's workspace."""
    path = tmp_path / "Pulumi.prod-eu.yaml"
    shutil.copy(STACKS / "Pulumi.prod.yaml", path)
    doc = yaml.safe_load(path.read_text())
    config = doc["config"]
    config["blue-harvest:cluster"]["name"] = "bh-prod-eu"
    config["blue-harvest:metrics"]["amp"] = {
        "workspaceId": EXISTING,
        "otherClusters": ["bh-prod"],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return run_program(load_stack_file(path, "prod-eu"), "prod-eu")


def test_a_second_cluster_declares_no_workspace_only_its_roles_on_the_existing_one(
    tmp_path: Path,
) -> None:
    run = _second_cluster(tmp_path)
    assert not [r for r in run.registrations if r.type.startswith("aws:amp/")]
    assert not [r for r in _of(run, LOG_GROUP) if "vendedlogs" in r.inputs["name"]]
    # Another stack owns the workspace: this one names it by the stack's own account.
    workspace_arn = f"arn:aws:aps:us-east-1:333333333333:workspace/{EXISTING}"
    roles = _roles_and_policies(run)
    plan = _store_plan(load_stack_file(tmp_path / "Pulumi.prod-eu.yaml", "prod-eu"))
    assert set(roles) == {plan.prometheus_role_name, plan.grafana_role_name}
    for _, policy in roles.values():
        (statement,) = policy["Statement"]
        assert statement["Resource"] == workspace_arn
    (remote,) = _chart_values(run)["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert remote["url"] == (
        f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{EXISTING}/api/v1/remote_write"
    )


def test_a_stack_without_logs_protect_leaves_its_workspace_unprotected() -> None:
    oidc = "arn:aws:iam::222222222222:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/STG"
    config = make_config("staging", metrics={"store": "amp"}, cluster={"oidcProviderArn": oidc})

    def program(config: EstateConfig) -> None:
        MetricsStore("metrics-store", MetricsStoreArgs(plan=_store_plan(config)))

    run = run_program(config, "staging", program)
    workspace = _one(run, WORKSPACE)
    assert (workspace.protect, workspace.retain_on_delete) == (False, False)
    # Without logs.encrypt, no key: the log group is CloudWatch's default encryption.
    assert not _of(run, "aws:kms/key:Key")
    assert _one(run, LOG_GROUP).inputs.get("kmsKeyId") is None
