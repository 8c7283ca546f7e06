"""The synth summary's paging routes come from the rendered Alertmanager config and rule
files, with Alertmanager's route semantics (order, `continue`, alertname matchers)."""

from __future__ import annotations

import yaml

from infra.synth.summary import paging_routes

AM = {
    "route": {
        "receiver": "slack",
        "routes": [
            # An alert routed by name pages whatever its severity.
            {"matchers": ['alertname="DiskFull"'], "receiver": "oncall"},
            {"matchers": ['severity="critical"'], "receiver": "oncall", "continue": True},
            {"matchers": ['severity="critical"'], "receiver": "slack-critical"},
        ],
    },
    "receivers": [
        {"name": "slack", "slack_configs": [{"channel": "#x"}]},
        {"name": "slack-critical", "slack_configs": [{"channel": "#y"}]},
        {"name": "oncall", "pagerduty_configs": [{"routing_key_file": "/k"}]},
    ],
}
RULES = {
    "groups": [
        {
            "name": "g",
            "rules": [
                {"alert": "Down", "expr": "1", "labels": {"severity": "critical"}},
                {"alert": "DiskFull", "expr": "1", "labels": {"severity": "warning"}},
                {"alert": "Slow", "expr": "1", "labels": {"severity": "warning"}},
                {"record": "r", "expr": "1"},
                {"alert": "Odd", "expr": "1", "labels": {"severity": "page-me"}},
            ],
        }
    ]
}
FILES = {
    "alertmanager/alertmanager.yaml": yaml.safe_dump(AM),
    "prometheus/rules/x.yaml": yaml.safe_dump(RULES),
}


def test_each_severity_with_its_receivers_and_paging_alerts() -> None:
    routes = {r.severity: r for r in paging_routes(FILES)}
    assert list(routes) == ["critical", "warning", "info", "page-me"]
    assert routes["critical"].receivers == ("oncall", "slack-critical")
    assert routes["critical"].paging == ("oncall",)
    assert routes["critical"].alerts == ("Down",)
    # A warning does not page by severity, but DiskFull does by name.
    assert routes["warning"].receivers == ("slack",)
    assert not routes["warning"].pages
    assert routes["warning"].alerts == ("DiskFull",)
    assert routes["info"].receivers == ("slack",)
    assert routes["info"].alerts == ()
    assert routes["page-me"].alerts == ()


def test_no_alertmanager_config_no_routes() -> None:
    assert paging_routes({"prometheus/rules/x.yaml": yaml.safe_dump(RULES)}) == ()
