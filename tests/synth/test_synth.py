"""`estate synth`: the whole tree, determinism, secrets, and refusing bad config."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.config import EstateConfig, load_stack_file
from infra.config.secrets import SECRET_MARKER, secret_values
from infra.program import build
from infra.synth import StacksRefusedError, synth_stacks
from infra.synth.engine import run_program
from infra.synth.writer import OutputError, SecretLeakError, render_files
from tests.conftest import ROOT, STACK_NAMES, STACKS, make_config

CANARY = "CANARY-7d1e0b9c-never-print-me"


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_every_stack_synths(tmp_path: Path) -> None:
    results = synth_stacks(list(STACK_NAMES), STACKS, tmp_path)
    assert [r.stack for r in results] == list(STACK_NAMES)
    for result in results:
        doc = json.loads((tmp_path / result.stack / "resources.json").read_text())
        assert doc["stack"] == result.stack
        urns = [r["urn"] for r in doc["resources"]]
        assert urns == sorted(urns)


def test_dev_writes_resources_and_the_aws_area(tmp_path: Path) -> None:
    synth_stacks(["dev"], STACKS, tmp_path)
    assert (tmp_path / "dev" / "resources.json").is_file()
    aws_files = sorted(p.name for p in (tmp_path / "dev" / "aws").iterdir())
    assert aws_files == [
        "alarms.json",
        "iam.json",
        "log-groups.json",
        "metric-filters.json",
        "saved-queries.json",
        "sns.json",
    ]
    groups = json.loads((tmp_path / "dev" / "aws" / "log-groups.json").read_text())
    assert [g["inputs"]["name"] for g in groups] == [
        "/blue-harvest/backend",
        "/blue-harvest/frontend",
    ]


def test_registration_records_every_field_reviewers_need(tmp_path: Path) -> None:
    synth_stacks(["prod"], STACKS, tmp_path)
    doc = json.loads((tmp_path / "prod" / "resources.json").read_text())
    group = next(r for r in doc["resources"] if r["name"] == "logs-backend")
    assert set(group) == {
        "urn",
        "type",
        "name",
        "custom",
        "parent",
        "provider",
        "protect",
        "retainOnDelete",
        "deleteBeforeReplace",
        "dependsOn",
        "ignoreChanges",
        "replaceOnChanges",
        "inputs",
    }
    assert group["protect"] is True
    assert group["retainOnDelete"] is True
    assert group["parent"].endswith("blueharvest:observability:CloudWatchLogs::logs")
    assert group["provider"].startswith("urn:pulumi:prod::blue-harvest::pulumi:providers:aws::aws")


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    synth_stacks(["prod"], STACKS, tmp_path / "a")
    synth_stacks(["prod"], STACKS, tmp_path / "b")
    first, second = _tree(tmp_path / "a" / "prod"), _tree(tmp_path / "b" / "prod")
    assert first == second
    assert len(first) > 1


def test_a_rerun_replaces_the_tree_exactly(tmp_path: Path) -> None:
    synth_stacks(["prod"], STACKS, tmp_path)
    (tmp_path / "prod" / "stale.json").write_text("{}")
    synth_stacks(["prod"], STACKS, tmp_path)
    assert not (tmp_path / "prod" / "stale.json").exists()


def _stacks_with_canary(tmp_path: Path) -> Path:
    """Copies of the repository's stacks where every secret carries the canary: as the
    ciphertext of each `secure:` value, and in local (where plain text is allowed) as the
    plain value of every secret setting the config has and of the provider tokens."""
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    for path in stacks.glob("Pulumi.*.yaml"):
        path.write_text(path.read_text().replace("secure: v1:", f"secure: v1:{CANARY}"))
    local = stacks / "Pulumi.local.yaml"
    local.write_text(
        local.read_text()
        + f"""  blue-harvest:alerting:
    slack:
      critical: {{channel: "#c", webhookUrl: "https://hooks.slack.example/{CANARY}-slack-c"}}
      warning: {{channel: "#w", webhookUrl: "https://hooks.slack.example/{CANARY}-slack-w"}}
      info: {{channel: "#i", webhookUrl: "https://hooks.slack.example/{CANARY}-slack-i"}}
    heartbeatUrl: "https://heartbeat.example/{CANARY}-heartbeat"
    pagerduty: {{routingKey: "{CANARY}-pagerduty"}}
    email:
      to: sre@blueharvest.example
      from: am@blueharvest.example
      smarthost: "smtp.blueharvest.example:587"
      authUsername: am
      authPassword: "{CANARY}-smtp"
  blue-harvest:tracing:
    storage: opensearch
    storageUrl: "https://search.example:9200"
    storageUsername: jaeger
    storagePassword: "{CANARY}-opensearch"
  blue-harvest:sentry: {{enabled: true, organization: blue-harvest, team: platform}}
  sentry:token: "{CANARY}-sentry"
  blue-harvest:grafana:
    external: {{url: "https://grafana.example", auth: "{CANARY}-grafana"}}
"""
    )
    return stacks


def test_canary_secret_is_nowhere_in_the_output_or_the_printed_summary(tmp_path: Path) -> None:
    stacks = _stacks_with_canary(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["synth", "--all", "--stacks-dir", str(stacks), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "prod" in result.output
    assert CANARY not in result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} >= {"aws", "rules", "alertmanager", "kubernetes", "helm"}
    for path in files:
        assert CANARY not in path.read_text(), path
    # The canary's secrets were really used: the resources that carry them exist.
    local = json.loads((out / "local" / "resources.json").read_text())["resources"]
    types = {r["type"] for r in local}
    assert {
        "pulumi:providers:grafana",  # the external Grafana's auth
        "sentry:index/sentryKey:SentryKey",  # the DSN
        "kubernetes:core/v1:Secret",  # receivers, the trace store's password
    } <= types


def test_secret_inputs_are_masked_by_the_recorder() -> None:
    def program(config: EstateConfig) -> None:
        aws.ssm.Parameter(
            "canary", type="SecureString", value=pulumi.Output.secret(CANARY), name="/canary"
        )

    run = run_program(make_config("local"), "local", program)
    (param,) = [r for r in run.registrations if r.type == "aws:ssm/parameter:Parameter"]
    assert param.inputs["value"] == SECRET_MARKER
    assert param.inputs["name"] == "/canary"
    assert CANARY not in json.dumps([r.as_dict() for r in run.registrations])


def test_a_plain_secret_passed_unwrapped_stops_the_synth() -> None:
    config = make_config("local", alerting={"heartbeatUrl": f"https://x/{CANARY}"})
    leaked = f"https://x/{CANARY}"

    def program(c: EstateConfig) -> None:
        aws.cloudwatch.LogGroup("leak", name=leaked)

    run = run_program(config, "local", program)
    with pytest.raises(SecretLeakError, match=r"resources\.json"):
        render_files(run, secret_values(config))

    # base64 does not hide it either
    def encoded(c: EstateConfig) -> None:
        aws.cloudwatch.LogGroup("leak", name=base64.b64encode(leaked.encode()).decode())

    with pytest.raises(SecretLeakError):
        render_files(run_program(config, "local", encoded), secret_values(config))


def test_a_secret_passed_unwrapped_stops_the_synth() -> None:
    config = load_stack_file(STACKS / "Pulumi.prod.yaml")
    assert config.alerting.pagerduty is not None
    assert config.alerting.pagerduty.routing_key is not None
    leaked = config.alerting.pagerduty.routing_key.get_secret_value()

    def program(c: EstateConfig) -> None:
        aws.cloudwatch.LogGroup("leak", name=leaked)

    run = run_program(config, "prod", program)
    with pytest.raises(SecretLeakError, match=r"resources\.json"):
        render_files(run)


def test_bad_config_writes_nothing_and_names_the_key(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    prod = stacks / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("retentionDays: 90", "retentionDays: 42"))
    out = tmp_path / "out"
    with pytest.raises(StacksRefusedError) as caught:
        synth_stacks(list(STACK_NAMES), stacks, out)
    assert "blue-harvest:logs.retentionDays" in str(caught.value)
    assert not out.exists()


def test_cli_refuses_bad_config_without_traceback_or_output(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    bad = ROOT / "tests" / "config" / "bad" / "Pulumi.prod-unencrypted.yaml"
    shutil.copy(bad, stacks / "Pulumi.prod.yaml")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "synth",
            "prod",
            "--stacks-dir",
            str(stacks),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        f"{stacks / 'Pulumi.prod.yaml'}: blue-harvest:logs.encrypt: must be true in prod"
        in proc.stderr
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "nothing was written" in proc.stderr
    assert not out.exists()


def test_a_heartbeat_url_becomes_a_file_of_the_receivers_secret(tmp_path: Path) -> None:
    from infra.estate import plan

    config = make_config("local", alerting={"heartbeatUrl": "https://hb.example/x"})
    run = run_program(config, "local", build)
    assert not [w for w in run.warnings if "heartbeat" in w.lower()]
    assert any(r.name == "monitoring-alertmanager-receivers" for r in run.registrations)
    assert set(plan(config).monitoring.receiver_secrets) == {"heartbeat-url"}


def test_cli_prints_a_summary_per_type(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "dev", "--stacks-dir", str(STACKS), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "dev:" in result.output
    assert "aws:cloudwatch/logGroup:LogGroup" in result.output
    assert "reportEmail is unset" not in result.output  # dev sets one


@pytest.mark.parametrize("args", [["synth"], ["synth", "dev", "--all"]])
def test_cli_needs_exactly_one_of_stack_or_all(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2


def test_unknown_stack_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "nope", "--stacks-dir", str(STACKS), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no such stack file" in result.output


def test_unknown_alert_override_is_refused_before_anything_registers(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    dev = stacks / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + "    overrides: {HighErrorRatio: {threshold: 0.1}}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["synth", "dev", "--stacks-dir", str(stacks), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert f"{dev}: blue-harvest:alerting.overrides.HighErrorRatio:" in result.output
    assert "HighErrorRate" in result.output  # the known names are listed
    assert not out.exists()


def test_prod_artifacts_for_the_real_tools(tmp_path: Path) -> None:
    synth_stacks(["prod"], STACKS, tmp_path)
    prod = tmp_path / "prod"
    rule_files = sorted(p.name for p in (prod / "prometheus" / "rules").iterdir())
    assert rule_files == [
        "blue-harvest-application.yaml",
        "blue-harvest-business.yaml",
        "blue-harvest-pipeline.yaml",
        "blue-harvest-platform.yaml",
        "blue-harvest-recording.yaml",
        # The SLOs' records and burn-rate alerts (alerts/slos.py): prod has SLOs.
        "blue-harvest-slos.yaml",
    ]
    am = (prod / "alertmanager" / "alertmanager.yaml").read_text()
    assert "routing_key_file: /etc/alertmanager/secrets/alertmanager-receivers/" in am
    assert (prod / "helm" / "kube-prometheus-stack.values.yaml").is_file()


def test_a_short_local_password_that_is_ordinary_text_does_not_stop_the_synth(
    tmp_path: Path,
) -> None:
    """`blue-harvest` is a legitimate local password and also the project's name, in every
    URN: the guard cannot tell a leak from a coincidence for such a value, so it does not
    search for it (see writer._forbidden) and the synth succeeds."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.local.yaml").write_text(
        (STACKS / "Pulumi.local.yaml").read_text()
        + """  blue-harvest:alerting:
    email:
      to: sre@blueharvest.example
      from: am@blueharvest.example
      smarthost: "smtp.blueharvest.example:587"
      authUsername: am
      authPassword: blue-harvest
"""
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["synth", "local", "--stacks-dir", str(stacks), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "blue-harvest" in (out / "local" / "resources.json").read_text()


def test_a_leaked_secret_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """The guard's refusal reaches the user as one line naming the file, never the value."""
    config = make_config("local", alerting={"heartbeatUrl": f"https://x/{CANARY}"})

    def program(c: EstateConfig) -> None:
        aws.cloudwatch.LogGroup("leak", name=f"https://x/{CANARY}")

    with pytest.raises(SecretLeakError) as caught:
        render_files(run_program(config, "local", program), secret_values(config))
    assert isinstance(caught.value, OutputError)  # what the CLI turns into exit 2
    assert CANARY not in str(caught.value)
    assert "out/local/resources.json" in str(caught.value)
