"""The alert settings carry the cluster namespace (`cluster.namespace`): a rule on container
metrics selects the stack's namespace through `Settings.container_selector`, and no rendered
rule or dashboard of a stack in another namespace names the default one."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml

from alerts.settings import Settings, Tuning
from infra.catalog import dashboard_refs as panels
from infra.render.prometheus import rule_file, to_yaml
from infra.rules import RuleError, RuleGroup
from infra.synth import synth_stacks
from infra.tools import tool_path
from tests.conftest import STACKS, make_config

SHOP: dict[str, Any] = {"cluster": {"namespace": "shop"}}
ALERT = "ContainerRestarting"
CONTAINER = 'container="backend"'


def _shop_settings() -> Settings:
    return Settings.from_config(make_config("local", **SHOP), source="test:local")


def test_from_config_takes_cluster_namespace() -> None:
    assert _shop_settings().namespace == "shop"
    default = Settings.from_config(make_config("local"), source="test:local")
    assert default.namespace == make_config("local").cluster.namespace


def test_container_selector_scopes_to_the_namespace() -> None:
    assert _shop_settings().container_selector("backend", 'reason="OOMKilled"') == (
        '{namespace="shop",container="backend",reason="OOMKilled"}'
    )


def test_a_namespace_that_is_no_label_value_is_refused() -> None:
    with pytest.raises(RuleError, match="namespace"):
        Settings(namespace='shop",x="y')


def _container_alert_group(settings: Settings) -> RuleGroup:
    """An alert on a container metric, written as docs/alerting.md says: selector from the
    settings, never a namespace in the rule."""
    s = replace(settings, tuning=MappingProxyType({**settings.tuning, ALERT: Tuning("5m")}))
    rule = s.alert(
        ALERT,
        expr=(
            "increase(kube_pod_container_status_restarts_total"
            f"{s.container_selector('backend')}[10m]) > 2"
        ),
        severity="warning",
        service="backend",
        summary="backend containers restart",
        description="More than 2 restarts in 10 minutes.",
        panel=panels.SCRAPE_TARGETS,
    )
    return RuleGroup(name="containers", rules=(rule,), interval="1m")


def test_a_container_rule_renders_and_fires_only_in_the_stacks_namespace(tmp_path: Path) -> None:
    """Real promtool: the same restarts in the default namespace do not fire the shop's rule."""
    document = rule_file(_container_alert_group(_shop_settings()))
    (tmp_path / "rules.yaml").write_text(to_yaml(document), encoding="utf-8")
    (rule,) = document["groups"][0]["rules"]
    assert 'namespace="shop"' in rule["expr"]
    restarts = "kube_pod_container_status_restarts_total"
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'{restarts}{{namespace="shop",pod="backend-a",{CONTAINER}}}',
                        "values": "0+1x30",
                    },
                    {
                        "series": (
                            f'{restarts}{{namespace="blue-harvest",pod="backend-b",{CONTAINER}}}'
                        ),
                        "values": "0+1x30",
                    },
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": ALERT,
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    **rule["labels"],
                                    "namespace": "shop",
                                    "pod": "backend-a",
                                    "container": "backend",
                                },
                                "exp_annotations": rule["annotations"],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test), encoding="utf-8")
    done = subprocess.run(
        [tool_path("promtool"), "test", "rules", "test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_rendered_rule_or_dashboard_names_the_default_namespace(tmp_path: Path) -> None:
    """A stack in namespace `shop`: its rules and dashboards select `shop` where they name a
    namespace, and never the default one."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    local = (STACKS / "Pulumi.local.yaml").read_text()
    (stacks / "Pulumi.local.yaml").write_text(
        local + "  blue-harvest:cluster:\n    namespace: shop\n", encoding="utf-8"
    )
    synth_stacks(["local"], stacks, tmp_path / "out")
    tree = tmp_path / "out" / "local"
    rendered = [*(tree / "prometheus" / "rules").glob("*.yaml")]
    rendered += [*(tree / "grafana" / "dashboards").glob("*.json")]
    assert rendered
    for path in rendered:
        text = path.read_text()
        for default in ('namespace="blue-harvest"', 'namespace=~"blue-harvest', "blue-harvest|"):
            assert default not in text, path.name
