"""The pure-Python router agrees with the real amtool on every stack's routing table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.plan.routing import alertmanager_plan, load_routing_table, routing_table_path
from infra.render.alertmanager import alertmanager_config
from infra.review.route_match import parse_matcher, receivers
from infra.tools.amtool import route_receivers
from tests.conftest import stack_config


def test_matches_amtool_on_every_routing_table_case(stack_name: str, tmp_path: Path) -> None:
    config = alertmanager_config(alertmanager_plan(stack_config(stack_name)))
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config))
    cases = load_routing_table(routing_table_path(stack_name))
    assert cases
    for case in cases:
        labels = dict(case.labels)
        assert receivers(config, labels) == route_receivers(path, labels), case.name


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity="critical"', "severity", "=", "critical"),
        ('alertname=~"High.*"', "alertname", "=~", "High.*"),
        ('service!=""', "service", "!=", ""),
        ('team !~ "a|b"', "team", "!~", "a|b"),
        ('summary="say \\"hi\\""', "summary", "=", 'say "hi"'),
    ],
)
def test_parses_matchers(text: str, name: str, op: str, value: str) -> None:
    m = parse_matcher(text)
    assert (m.name, m.op, m.value) == (name, op, value)


def test_regex_matchers_are_anchored_and_missing_labels_are_empty() -> None:
    config = {
        "route": {
            "receiver": "default",
            "routes": [
                {"matchers": ['alertname=~"High"'], "receiver": "exact"},
                {"matchers": ['team=""'], "receiver": "no-team"},
            ],
        }
    }
    assert receivers(config, {"alertname": "HighErrorRate", "team": "x"}) == ("default",)
    assert receivers(config, {"alertname": "HighErrorRate"}) == ("no-team",)
    assert receivers(config, {"alertname": "High"}) == ("exact",)


def test_refuses_what_is_not_a_matcher() -> None:
    with pytest.raises(ValueError, match="not an Alertmanager matcher"):
        parse_matcher("severity")
