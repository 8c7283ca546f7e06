"""`estate check`: every validator over a stack's synth output, as one list of findings."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import textwrap
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import promql_parser
import yaml

from infra.checks import dashboards as dashboard_checks
from infra.checks import remote_write
from infra.checks.manifests import validate_tree
from infra.checks.placeholders import placeholder_problems
from infra.config import ConfigError, EstateConfig, load_stack_file, stack_file, stack_yaml
from infra.estate import EstatePlan, plan
from infra.plan.routing import load_routing_table, routing_table_path
from infra.review.policies import evaluate, from_registration
from infra.rules import RuleError
from infra.synth import synth_plans
from infra.text import code
from infra.tools import ToolMissingError, amtool, promtool

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
    """One synthesized stack: its name, its config, its out/<stack>/ tree and the plan it was
    synthesized from (the checks read its rule groups and data sources, never rebuild them)."""

    stack: str
    config: EstateConfig
    tree: Path
    plan: EstatePlan


Check = Callable[[Target], Iterator[Finding]]


def _tool_missing(check: str, file: str, err: ToolMissingError) -> Finding:
    """A validator whose tool is missing did not run: an error (never a silent pass), with
    the message infra.tools gives (which names `make tools`)."""
    return Finding("error", check, file, "-", f"not run: {err}")


#: `FILE: LINE:COL: MESSAGE`, what promtool prints for a rule it refuses.
_PROMTOOL_POSITION = re.compile(r"^(?P<file>.+?): (?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")
#: `group "G", rule N, "NAME": MESSAGE` inside that message.
_PROMTOOL_RULE = re.compile(r'^group "(?P<group>.*?)", rule \d+, "(?P<name>.*?)": (?P<message>.+)$')
_PROMTOOL_NOISE = ("Checking ", "SUCCESS", "FAILED:")


def promtool_check_findings(output: str) -> list[Finding]:
    """One finding per rule promtool refuses, at its file, line and column (the message keeps
    promtool's position inside the expression); anything else it says, whole, in one more."""
    findings: list[Finding] = []
    rest: list[str] = []
    for line in output.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(_PROMTOOL_NOISE):
            continue
        match = _PROMTOOL_POSITION.match(stripped)
        if match is None:
            rest.append(line.rstrip())
            continue
        where = f"{match['line']}:{match['col']}"
        message = match["message"]
        rule = _PROMTOOL_RULE.match(message)
        if rule is not None:
            where += f" group {rule['group']}, {rule['name']}"
            message = rule["message"]
        findings.append(Finding("error", "promtool check rules", match["file"], where, message))
    if rest:
        text = textwrap.dedent("\n".join(rest)).strip()
        findings.append(Finding("error", "promtool check rules", "-", "-", text))
    return findings


@dataclass(frozen=True)
class _Rule:
    group: str
    name: str
    expr: str
    line: int
    col: int


def _rules_with_positions(path: Path) -> list[_Rule]:
    """Every rule of a rule file with the line and column of its `expr` (1-based)."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    out: list[_Rule] = []

    def get(node: yaml.Node, key: str) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    return v  # type: ignore[no-any-return]
        return None

    groups = get(root, "groups") if root is not None else None
    for group in groups.value if isinstance(groups, yaml.SequenceNode) else []:
        group_name = get(group, "name")
        rules = get(group, "rules")
        for rule in rules.value if isinstance(rules, yaml.SequenceNode) else []:
            expr = get(rule, "expr")
            name = get(rule, "alert") or get(rule, "record")
            if not isinstance(expr, yaml.ScalarNode):
                continue
            out.append(
                _Rule(
                    str(group_name.value) if isinstance(group_name, yaml.ScalarNode) else "?",
                    str(name.value) if isinstance(name, yaml.ScalarNode) else "?",
                    str(expr.value),
                    expr.start_mark.line + 1,
                    expr.start_mark.column + 1,
                )
            )
    return out


def check_rules(target: Target) -> Iterator[Finding]:
    """promtool over the rule files, then every expression through the in-process PromQL
    parser (which also covers a machine without promtool). A rule promtool already placed
    is not reported twice."""
    folder = target.tree / "prometheus" / "rules"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return
    placed: set[tuple[str, int]] = set()
    try:
        result = promtool.check_rules(files)
    except ToolMissingError as err:
        yield _tool_missing("promtool check rules", str(folder), err)
    else:
        if not result.ok:
            for finding in promtool_check_findings(result.output):
                line = finding.location.split(":", 1)[0]
                if line.isdigit():
                    placed.add((str(Path(finding.file).resolve()), int(line)))
                yield finding
    for path in files:
        try:
            rules = _rules_with_positions(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{mark.line + 1}:{mark.column + 1}" if mark is not None else "-"
            yield Finding("error", "promql", str(path), where, f"not valid YAML: {exc}")
            continue
        for rule in rules:
            if (str(path.resolve()), rule.line) in placed:
                continue
            try:
                promql_parser.parse(rule.expr)
            except ValueError as exc:
                yield Finding(
                    "error",
                    "promql",
                    str(path),
                    f"{rule.line}:{rule.col} group {rule.group}, {rule.name}",
                    f"invalid PromQL: {exc}",
                )


def check_alertmanager(target: Target) -> Iterator[Finding]:
    stack = target.stack
    path = target.tree / "alertmanager" / "alertmanager.yaml"
    if not path.is_file():
        return
    try:
        result = amtool.check_config(path)
    except ToolMissingError as err:
        yield _tool_missing("amtool check-config", str(path), err)
        return
    if not result.ok:
        yield Finding("error", "amtool check-config", str(path), "-", result.output.strip())
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
    links = dashboard_checks.alert_links(target.plan.monitoring.groups)
    for f in dashboard_checks.check_all(
        models, dashboard_checks.stack_for(target.plan), alert_links=links
    ):
        yield Finding(
            f.severity,
            "dashboards",
            str(by_uid.get(f.dashboard, folder)),
            f"{f.dashboard}, {f.panel}" if f.panel else f.dashboard,
            f.message,
        )


def check_remote_write(target: Target) -> Iterator[Finding]:
    """The chart values' remote write (metrics.store amp), translated as the operator does
    (infra/checks/remote_write.py), through `promtool check config`."""
    path = target.tree / "helm" / "kube-prometheus-stack.values.yaml"
    if path.is_file():
        yield from remote_write_findings(yaml.safe_load(path.read_text()) or {}, path)


def remote_write_findings(values: dict[str, Any], path: Path) -> Iterator[Finding]:
    """What `promtool check config` says of the remote write in the chart values at `path`."""
    config, unknown = remote_write.prometheus_config(values)
    for field in unknown:
        yield Finding(
            "error",
            "remote write",
            str(path),
            f"prometheus.prometheusSpec.{field}",
            "a field the check cannot translate to Prometheus's configuration: add it to"
            " OPERATOR_TO_PROMETHEUS (infra/render/remote_write.py)",
        )
    if config is None:
        return
    with tempfile.TemporaryDirectory(prefix="estate-remote-write-") as tmp:
        checked = Path(tmp) / "prometheus.yml"
        checked.write_text(yaml.safe_dump(config, sort_keys=False))
        try:
            result = promtool.check_config(checked)
        except ToolMissingError as err:
            yield _tool_missing("promtool check config", str(path), err)
            return
    if not result.ok:
        output = result.output.replace(str(checked), "<remote write>")
        yield Finding(
            "error", "promtool check config", str(path), "prometheus.prometheusSpec", output
        )


CHECKS: tuple[Check, ...] = (
    check_rules,
    check_alertmanager,
    check_policies,
    check_manifests,
    check_dashboards,
    check_remote_write,
)


def failing_cases(output: str) -> list[tuple[str, str]]:
    """The failing cases in what `promtool test rules` printed for one test file, as
    (test name, what failed: the alert or expression, time, expected and got), whole; the
    file headers and SUCCESS lines are left out."""
    cases: list[list[str]] = []
    for raw in output.splitlines():
        line = raw.rstrip()
        if line.endswith("FAILED:"):
            line = line[: -len("FAILED:")].rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("Unit Testing:") or stripped == "SUCCESS":
            continue
        named = bool(cases) and len(cases[-1]) == 1 and cases[-1][0].strip().startswith("name: ")
        starts = stripped.startswith("name: ") or (
            stripped.startswith(("alertname: ", "expr: ")) and not named
        )
        if starts or not cases:
            cases.append([])
        cases[-1].append(line)
    out = []
    for lines in cases:
        first = lines[0].strip()
        if first.startswith("name: ") and len(lines) > 1:
            location, body = first.removeprefix("name: ").rstrip(","), lines[1:]
        else:
            location, body = "-", lines
        out.append((location, textwrap.dedent("\n".join(body)).strip()))
    return out


def promtool_unit_tests(files: Sequence[Path] | None = None) -> Iterator[Finding]:
    """The alerts' promtool unit tests (or `files`), against the rules rendered for their
    fixture: one finding per failing case, with what was expected and what came."""
    from alerts.testing import default_groups, stage

    with tempfile.TemporaryDirectory(prefix="estate-check-") as tmp:
        for path in stage(default_groups(), Path(tmp), files):
            shown = f"alerts/tests/{path.name}"
            try:
                result = promtool.test_rules([path])
            except ToolMissingError as err:
                yield _tool_missing("promtool test rules", "alerts/tests", err)
                return
            if result.ok:
                continue
            cases = failing_cases(result.output) or [("-", result.output.strip())]
            for location, message in cases:
                yield Finding("error", "promtool test rules", shown, location, message)


#: The repository root: alert sources are named relative to it.
_ROOT = Path(__file__).resolve().parents[2]
#: The message of a RuleError for PromQL promql_parser refuses (infra/rules/__init__.py).
_INVALID_PROMQL = re.compile(r"^expr is not valid PromQL \((?P<why>.*?)\): (?P<expr>.*)$", re.S)
#: What promtool says of an expression it cannot parse, at a line:column inside it.
_PROMTOOL_PARSE = re.compile(r"could not parse expression: (?P<where>\d+:\d+): (?P<what>.+)$")


def _declared_at(err: BaseException) -> tuple[str, str]:
    """The alert source (relative path, line) where the failing rule was declared: the
    innermost frame in alerts/ outside its shared helpers, else the innermost in alerts/."""
    frames = [
        (Path(f.filename).resolve(), f.lineno)
        for f in traceback.extract_tb(err.__traceback__)
        if Path(f.filename).resolve().is_relative_to(_ROOT / "alerts")
    ]
    helpers = {_ROOT / "alerts" / "__init__.py", _ROOT / "alerts" / "settings.py"}
    chosen = [f for f in frames if f[0] not in helpers] or frames
    if not chosen:
        return "-", "-"
    path, line = chosen[-1]
    return str(path.relative_to(_ROOT)), str(line or "-")


def _promtool_position(rule: str, expr: str) -> tuple[str, str] | None:
    """(line:column inside `expr`, promtool's message) from the real `promtool check rules`
    on a one-rule file; None when promtool is missing, too old or does not place it."""
    with tempfile.TemporaryDirectory(prefix="estate-rule-") as tmp:
        path = Path(tmp) / "rule.yaml"
        document = {"groups": [{"name": "estate-check", "rules": [{"alert": rule, "expr": expr}]}]}
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        try:
            result = promtool.check_rules([path])
        except (ToolMissingError, OSError, subprocess.SubprocessError):
            return None
    for line in result.output.splitlines():
        match = _PROMTOOL_PARSE.search(line.strip())
        if match is not None:
            return match["where"], match["what"]
    return None


def rule_error_finding(err: Exception) -> Finding:
    """One finding for an alert rule that cannot be built (a RuleError, or anything else the
    alerts' code raised): the alert source file and line that declared it, the alert, and the
    problem; for invalid PromQL, the position inside the expression as promtool gives it."""
    file, line = _declared_at(err)
    if not isinstance(err, RuleError):
        return Finding(
            "error",
            "alert rules",
            file,
            line,
            f"building the alert rules failed: {type(err).__name__}: {err}",
        )
    message = str(err).removeprefix(f"{err.rule}: ")
    invalid = _INVALID_PROMQL.match(message)
    if invalid is not None:
        expr = invalid["expr"]
        placed = _promtool_position(err.rule, expr)
        shown = " ".join(expr.split())
        if placed is not None:
            message = f"invalid PromQL at {placed[0]} of the expression: {placed[1]}: {shown}"
        else:
            message = f"invalid PromQL ({invalid['why']}): {shown}"
    return Finding("error", "alert rules", file, f"{line} {err.rule}", message)


@dataclass(frozen=True)
class Planned:
    """What planning the stacks found: each planned stack (name, config, plan), the findings
    of alert rules that cannot be built (each distinct one once), the config findings of the
    refused stacks, and the stacks whose rules failed."""

    stacks: list[tuple[str, EstateConfig, EstatePlan]]
    rule_findings: list[Finding]
    config_findings: list[Finding]
    rules_failed: list[str]


def plan_stacks(stacks: list[str], stacks_dir: Path) -> Planned:
    """Plan each stack once, before anything is synthesized: the plan holds its rule groups
    (so the alerts' Settings are built once per stack), and the checks read the same plan."""
    planned = Planned([], [], [], [])
    for stack in stacks:
        try:
            path = stack_file(stacks_dir, stack)  # refuses a bad stack name first
            config = load_stack_file(path, stack)
            planned.stacks.append((stack, config, plan(config, source=str(path))))
        except ConfigError as exc:
            planned.config_findings.extend(
                _config_finding(exc, p.key, p.message) for p in exc.problems
            )
        except Exception as err:  # reported as a finding naming the alert and its source
            found = rule_error_finding(err)
            if found not in planned.rule_findings:
                planned.rule_findings.append(found)
            planned.rules_failed.append(stack)
    return planned


def deployable_findings(stack: str, stacks_dir: Path, config: EstateConfig) -> list[Finding]:
    """`--deployable`: every placeholder the stack file still carries, and every one the
    stack takes from the defaults (a runbook host under .example), as an error naming its
    key (infra/checks/placeholders.py), never its value."""
    path = stack_file(stacks_dir, stack)
    doc = stack_yaml.load(stack_yaml.read(path)) or {}
    written = placeholder_problems((doc.get("config") if isinstance(doc, dict) else None) or {})
    found = [Finding("error", "deployable", str(path), k, m) for k, m in written]
    keys = {key for key, _ in written}
    effective = config.model_dump(mode="json", by_alias=True, exclude={"stack"})
    for key, message in placeholder_problems(effective):
        if key not in keys and not any(key.startswith(f"{k}.") for k in keys):
            found.append(
                Finding("error", "deployable", str(path), key, f"{message} (a default: set it)")
            )
    return found


def run_checks(
    stacks: list[str], stacks_dir: Path, out: Path, *, deployable: bool = False
) -> list[Finding]:
    planned = plan_stacks(stacks, stacks_dir)
    findings = planned.rule_findings + planned.config_findings
    if deployable:
        for stack, config, _ in planned.stacks:
            findings += _guarded(
                "deployable", stack, partial(deployable_findings, stack, stacks_dir, config)
            )
    if not planned.stacks:
        return findings
    synth_plans(planned.stacks, out)
    for stack, config, estate in planned.stacks:
        target = Target(stack, config, out / stack, estate)
        for check in CHECKS:
            findings += _guarded(check.__name__, str(target.tree), partial(check, target))
    if not planned.rules_failed:
        # The unit tests build the same rules: after a refused rule they would only repeat it.
        findings += _guarded("promtool_unit_tests", "alerts/tests", promtool_unit_tests)
    return findings


def _guarded(name: str, file: str, run: Callable[[], Iterable[Finding]]) -> list[Finding]:
    """Run one validator; whatever it raises becomes an error finding after those it had
    already found, so `estate check` always ends with its whole report."""
    found: list[Finding] = []
    check = name.removeprefix("check_").replace("_", " ")
    try:
        for finding in run():
            found.append(finding)
    except ToolMissingError as err:
        found.append(_tool_missing(check, file, err))
    except subprocess.TimeoutExpired as err:
        found.append(Finding("error", check, file, "-", f"not finished: {err}"))
    except Exception as err:  # reported as an error finding, with its type and message
        found.append(
            Finding("error", check, file, "-", f"the check failed: {type(err).__name__}: {err}")
        )
    return found


def _config_finding(error: ConfigError, key: str, message: str) -> Finding:
    return Finding("error", "config", error.source, key, message)


def to_json(findings: list[Finding]) -> str:
    return json.dumps([asdict(f) for f in findings], indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    """A table cell that GitHub shows literally: each line a code span (no emoji, mention or
    HTML rendering), lines joined with <br>, pipes escaped."""
    lines = [line for line in text.splitlines() if line.strip()] or ["-"]
    return "<br>".join(code(line, cell=True) for line in lines)


def to_markdown(findings: list[Finding], stacks: list[str]) -> str:
    head = f"### estate check ({', '.join(code(s) for s in stacks)})\n\n"
    if not findings:
        return head + "No findings: every check passed.\n"
    rows = ["| severity | check | file | location | message |", "| --- | --- | --- | --- | --- |"]
    rows += [
        f"| {f.severity} | {_cell(f.check)} | {_cell(f.file)} | {_cell(f.location)}"
        f" | {_cell(f.message)} |"
        for f in findings
    ]
    return head + "\n".join(rows) + "\n"
