"""`estate check`: every validator over a stack's synth output, as one list of findings."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import promql_parser
import yaml

from alerts import rule_groups
from infra.checks import dashboards as dashboard_checks
from infra.checks.manifests import validate_tree
from infra.checks.policies import evaluate, from_registration
from infra.config import ConfigError, EstateConfig, load_stack_file, stack_file
from infra.spec.routing import load_routing_table, routing_table_path
from infra.synth import StacksRefusedError, synth_stacks
from infra.tools import amtool, promtool

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str
    file: str
    location: str
    message: str


@dataclass(frozen=True)
class Target:
    """One synthesized stack: its name, its config and its out/<stack>/ tree."""

    stack: str
    config: EstateConfig
    tree: Path


Check = Callable[[Target], Iterator[Finding]]


def _first_lines(text: str, n: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[:n] if line.strip())


def check_rules(target: Target) -> Iterator[Finding]:
    tree = target.tree
    files = sorted((tree / "prometheus" / "rules").glob("*.yaml"))
    if not files:
        return
    result = promtool.check_rules(files)
    if not result.ok:
        yield Finding(
            "error",
            "promtool check rules",
            str(tree / "prometheus" / "rules"),
            "-",
            _first_lines(result.output),
        )
    for path in files:
        for g in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in g.get("rules", []):
                name = rule.get("alert") or rule.get("record")
                try:
                    promql_parser.parse(str(rule["expr"]))
                except ValueError as exc:
                    yield Finding(
                        "error", "promql", str(path), f"group {g['name']}, {name}", str(exc)
                    )


def check_alertmanager(target: Target) -> Iterator[Finding]:
    stack = target.stack
    path = target.tree / "alertmanager" / "alertmanager.yaml"
    if not path.is_file():
        return
    result = amtool.check_config(path)
    if not result.ok:
        yield Finding("error", "amtool check-config", str(path), "-", _first_lines(result.output))
        return
    table = routing_table_path(stack)
    if not table.is_file():
        yield Finding(
            "warning",
            "routing table",
            str(table),
            "-",
            f"no routing table for {stack}: its routes are unverified",
        )
        return
    for case in load_routing_table(table):
        tested = amtool.routes_test(path, dict(case.labels), case.receivers)
        if not tested.ok:
            yield Finding(
                "error",
                "amtool routes",
                str(table),
                case.name,
                f"expected {', '.join(case.receivers)},"
                f" got {', '.join(tested.receivers) or 'none'}",
            )


def check_policies(target: Target) -> Iterator[Finding]:
    path = target.tree / "resources.json"
    resources = [from_registration(e) for e in json.loads(path.read_text())["resources"]]
    for v in evaluate(resources, target.config.environment):
        yield Finding(
            "error",
            f"policy {v.policy}",
            str(path),
            f"{v.urn.rsplit('::', 1)[-1]}: {v.location}",
            v.message,
        )


def check_manifests(target: Target) -> Iterator[Finding]:
    version = target.config.cluster.kubernetes_version
    for path, location, message in validate_tree(target.tree, version):
        yield Finding("error", f"kubernetes-validate {version}", str(path), location, message)


def check_dashboards(target: Target) -> Iterator[Finding]:
    """The dashboard checks over the synthesized JSON: PromQL, metrics catalog, data
    sources, ids, layout, units, and every alert's dashboard link."""
    folder = target.tree / "grafana" / "dashboards"
    paths = sorted(folder.glob("*.json"))
    models = [json.loads(p.read_text()) for p in paths]
    by_uid = {str(m.get("uid")): p for m, p in zip(models, paths, strict=True)}
    links = dashboard_checks.alert_links(rule_groups(target.config))
    for f in dashboard_checks.check_all(
        models, dashboard_checks.stack_for(target.config), alert_links=links
    ):
        yield Finding(
            f.severity,
            "dashboards",
            str(by_uid.get(f.dashboard, folder)),
            f"{f.dashboard}, {f.panel}" if f.panel else f.dashboard,
            f.message,
        )


CHECKS: tuple[Check, ...] = (
    check_rules,
    check_alertmanager,
    check_policies,
    check_manifests,
    check_dashboards,
)


def promtool_unit_tests() -> Iterator[Finding]:
    """The alerts' promtool unit tests, against the rules rendered for their fixture."""
    from alerts.testing import default_groups, stage

    with tempfile.TemporaryDirectory(prefix="estate-check-") as tmp:
        staged = stage(default_groups(), Path(tmp))
        result = promtool.test_rules(staged)
        if not result.ok:
            yield Finding(
                "error", "promtool test rules", "alerts/tests", "-", _first_lines(result.output, 12)
            )


def run_checks(stacks: list[str], stacks_dir: Path, out: Path) -> list[Finding]:
    findings: list[Finding] = []
    try:
        synth_stacks(stacks, stacks_dir, out)
    except StacksRefusedError as exc:
        findings += [_config_finding(e, p.key, p.message) for e in exc.errors for p in e.problems]
        ok = set(stacks) - {Path(e.source).name.split(".")[1] for e in exc.errors}
        if ok:
            findings += run_checks(sorted(ok), stacks_dir, out)
        return findings
    for stack in stacks:
        target = Target(stack, load_stack_file(stack_file(stacks_dir, stack), stack), out / stack)
        for check in CHECKS:
            findings += check(target)
    findings += promtool_unit_tests()
    return findings


def _config_finding(error: ConfigError, key: str, message: str) -> Finding:
    return Finding("error", "config", error.source, key, message)


def to_json(findings: list[Finding]) -> str:
    return json.dumps([asdict(f) for f in findings], indent=2, sort_keys=True) + "\n"


def to_markdown(findings: list[Finding], stacks: list[str]) -> str:
    head = f"### estate check ({', '.join(stacks)})\n\n"
    if not findings:
        return head + "No findings: every check passed.\n"
    rows = ["| severity | check | file | location | message |", "| --- | --- | --- | --- | --- |"]
    rows += [
        f"| {f.severity} | {f.check} | `{f.file}` | {f.location} | {f.message.replace('|', '/')} |"
        for f in findings
    ]
    return head + "\n".join(rows) + "\n"
