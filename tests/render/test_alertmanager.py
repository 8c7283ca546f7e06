"""The Alertmanager config: who gets paged where, grouping, inhibition, and no secret inline.

Pure tests (no amtool, no Pulumi); tests/tools/ runs the real amtool on the same output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest
import yaml

from infra.config import EstateConfig
from infra.config.model import GroupingConfig
from infra.plan.routing import AlertmanagerPlan, RoutingPlan, alertmanager_plan, routing_plan
from infra.render.alertmanager import (
    DEFAULT_SECRETS_DIR,
    EMAIL_AUTH_PASSWORD_FILE,
    HEARTBEAT_URL_FILE,
    INHIBIT_EQUAL,
    OUTAGE_ALERTS,
    PAGERDUTY_ROUTING_KEY_FILE,
    RECEIVER_SECRET_NAME,
    SLACK_WEBHOOK_URL_FILES,
    alertmanager_config,
    receiver_secret_files,
)
from infra.rules import AlertRule
from tests.conftest import ROOT, STACK_NAMES, make_config, stack_config

#: Odd, unique values: if one shows up in a rendered config, a secret leaked.
PD_KEY = "canary-pd-key-0d41e9"
SLACK_URLS = {
    severity: f"https://hooks.slack.example/services/canary-slack-{severity}-7c2b"
    for severity in ("critical", "warning", "info")
}
SMTP_PASSWORD = "canary-smtp-pass-93fa"
HEARTBEAT_URL = "https://hc-ping.example/canary-heartbeat-5e61"
CANARIES = (PD_KEY, *SLACK_URLS.values(), SMTP_PASSWORD, HEARTBEAT_URL)
CHANNELS = {"critical": "#t-crit", "warning": "#t-warn", "info": "#t-info"}


def slack_section(channels: dict[str, str] = CHANNELS) -> dict[str, Any]:
    return {
        severity: {"channel": channels[severity], "webhookUrl": SLACK_URLS[severity]}
        for severity in ("critical", "warning", "info")
    }


def canary_alerting(**extra: Any) -> dict[str, Any]:
    """Every channel configured, every secret a canary (plain text is allowed in tests)."""
    return {
        "pagerduty": {"routingKey": PD_KEY},
        "slack": slack_section(),
        "email": {
            "to": "reports@blueharvest.example",
            "from": "am@blueharvest.example",
            "smarthost": "smtp.blueharvest.example:587",
            "authUsername": "am",
            "authPassword": SMTP_PASSWORD,
        },
        "heartbeatUrl": HEARTBEAT_URL,
        **extra,
    }


def canary_config(environment: str, **extra: Any) -> EstateConfig:
    return make_config(environment, alerting=canary_alerting(**extra))


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a nested config."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def receivers_by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in doc["receivers"]}


def routed_receivers(doc: dict[str, Any]) -> set[str]:
    return {doc["route"]["receiver"]} | {r["receiver"] for r in doc["route"]["routes"]}


def routes_for(doc: dict[str, Any], matcher: str) -> list[dict[str, Any]]:
    return [r for r in doc["route"]["routes"] if r["matchers"] == [matcher]]


ALL_CONFIGS = [
    *[pytest.param(lambda s=s: stack_config(s), id=f"stack-{s}") for s in STACK_NAMES],
    *[
        pytest.param(lambda e=e: canary_config(e), id=f"canary-{e}")
        for e in ("local", "dev", "staging", "prod")
    ],
]


@pytest.mark.parametrize("build", ALL_CONFIGS)
def test_every_route_reaches_a_defined_receiver_and_every_receiver_is_used(build: Any) -> None:
    doc = alertmanager_config(alertmanager_plan(build()))
    names = [r["name"] for r in doc["receivers"]]
    assert len(names) == len(set(names))
    assert routed_receivers(doc) == set(names)


def test_grouping_and_timings_come_from_the_stack_config() -> None:
    config = make_config(
        "staging",
        alerting={
            "pagerduty": {"routingKey": PD_KEY},
            "grouping": {
                "groupBy": ["alertname", "service", "cluster"],
                "groupWait": "17s",
                "groupInterval": "7m",
                "repeatInterval": "13h",
            },
        },
    )
    route = alertmanager_config(alertmanager_plan(config))["route"]
    assert route["group_by"] == ["alertname", "service", "cluster"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "17s",
        "7m",
        "13h",
    )


@pytest.mark.parametrize(
    ("stack", "timings"),
    [
        ("local", ("10s", "1m", "1h")),
        ("dev", ("1m", "10m", "12h")),
        ("staging", ("30s", "5m", "4h")),
        ("prod", ("30s", "5m", "1h")),
    ],
)
def test_each_repository_stack_keeps_its_environment_grouping(
    stack: str, timings: tuple[str, str, str]
) -> None:
    route = alertmanager_config(alertmanager_plan(stack_config(stack)))["route"]
    assert route["group_by"] == ["alertname", "service"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == timings


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_severity_ladders_inhibit_only_the_same_alert_on_the_same_object(stack: str) -> None:
    ladder = alertmanager_config(alertmanager_plan(stack_config(stack)))["inhibit_rules"][:2]
    assert [(r["source_matchers"], r["target_matchers"][0]) for r in ladder] == [
        (['severity="critical"'], 'severity=~"warning|info"'),
        (['severity="warning"'], 'severity="info"'),
    ]
    for rule in ladder:
        # namespace, as the chart's own rules: a critical alert in one namespace must not
        # silence a warning in another; the object labels keep nodes and volumes apart.
        assert {"alertname", "namespace", "service", "instance", "node", "pod"} <= set(
            rule["equal"]
        )
        assert "severity" not in rule["equal"]
        assert 'alertname!="Watchdog"' in rule["target_matchers"]
    assert tuple(ladder[0]["equal"]) == INHIBIT_EQUAL


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_a_service_outage_inhibits_that_services_warnings_and_infos(stack: str) -> None:
    outage = alertmanager_config(alertmanager_plan(stack_config(stack)))["inhibit_rules"][2]
    assert outage == {
        "source_matchers": ['alertname=~"ServiceDown|ScrapeTargetMissing"', 'severity="critical"'],
        "target_matchers": ['severity=~"warning|info"', 'alertname!="Watchdog"'],
        # NoPostsCreated sums over instances: it has `service` and no `namespace`/`instance`.
        "equal": ["service"],
    }


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_outage_alerts_are_critical_per_service_alerts_the_rules_declare(stack: str) -> None:
    from alerts import rule_groups
    from infra.rules import iter_alerts

    config = stack_config(stack)
    alerts = list(iter_alerts(rule_groups(config)))
    outage_services: set[str] = set()
    for name in OUTAGE_ALERTS:
        declared = [a for a in alerts if a.name == name]
        covered = {service for a in declared for service in _services_of(a)}
        assert covered >= {"backend"}, name
        assert all(a.severity == "critical" for a in declared), name
        outage_services |= covered
    no_posts = [a for a in alerts if a.name == "NoPostsCreated"]
    assert no_posts
    assert all(a.severity in ("warning", "info") for a in no_posts)
    assert {a.service for a in no_posts} <= outage_services


def _services_of(alert: AlertRule) -> set[str]:
    """The services an alert speaks for: its `service`, or, for a rule shared by every service
    (`service` templated from `job`), the jobs its `job=~"a|b"` selector names."""
    if not alert.service_from_label:
        return {alert.service}
    jobs: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            for m in node.matchers.matchers:
                if m.name == "job" and m.op == promql_parser.MatchOp.Re:
                    jobs.update(m.value.split("|"))

    promql_parser.walk(promql_parser.parse(alert.expr), visit)
    return jobs


@pytest.mark.parametrize("environment", ["local", "dev", "staging", "prod"])
def test_no_secret_value_reaches_the_rendered_config(environment: str) -> None:
    doc = alertmanager_config(alertmanager_plan(canary_config(environment)))
    for text in (yaml.safe_dump(doc), json.dumps(doc)):
        for canary in CANARIES:
            assert canary not in text
    inline_secret_fields = {"routing_key", "service_key", "api_url", "auth_password", "auth_secret"}
    assert not inline_secret_fields & {key for key, _ in walk(doc)}
    # `url` appears only as the (non-secret) PagerDuty endpoint.
    assert [v for k, v in walk(doc) if k == "url"] == (
        ["https://events.pagerduty.com/v2/enqueue"] if environment in ("staging", "prod") else []
    )


@pytest.mark.parametrize("environment", ["local", "dev", "staging", "prod"])
def test_every_secret_is_a_file_in_the_receivers_secret(environment: str) -> None:
    config = canary_config(environment)
    doc = alertmanager_config(alertmanager_plan(config), secrets_dir="/run/odd-dir/")
    paths = [value for key, value in walk(doc) if key.endswith("_file")]
    assert paths
    assert all(p.startswith("/run/odd-dir/") and p.count("//") == 0 for p in paths)
    files = receiver_secret_files(alertmanager_plan(config))
    assert {p.removeprefix("/run/odd-dir/") for p in paths} == set(files)
    wanted = {
        PAGERDUTY_ROUTING_KEY_FILE: PD_KEY,
        **{
            SLACK_WEBHOOK_URL_FILES[f"slack-{severity}"]: url
            for severity, url in SLACK_URLS.items()
        },
        EMAIL_AUTH_PASSWORD_FILE: SMTP_PASSWORD,
        HEARTBEAT_URL_FILE: HEARTBEAT_URL,
    }
    assert {k: v.get_secret_value() for k, v in files.items()} == {
        k: v for k, v in wanted.items() if k in files
    }


def test_the_secret_files_live_where_the_operator_mounts_the_receivers_secret() -> None:
    assert RECEIVER_SECRET_NAME == "alertmanager-receivers"
    assert DEFAULT_SECRETS_DIR == "/etc/alertmanager/secrets/alertmanager-receivers"
    doc = alertmanager_config(alertmanager_plan(stack_config("prod")))
    paths = {value for key, value in walk(doc) if key.endswith("_file")}
    assert paths == {
        f"{DEFAULT_SECRETS_DIR}/{PAGERDUTY_ROUTING_KEY_FILE}",
        *(f"{DEFAULT_SECRETS_DIR}/{file}" for file in SLACK_WEBHOOK_URL_FILES.values()),
        f"{DEFAULT_SECRETS_DIR}/{EMAIL_AUTH_PASSWORD_FILE}",
        f"{DEFAULT_SECRETS_DIR}/{HEARTBEAT_URL_FILE}",
    }


@pytest.mark.parametrize("environment", ["local", "dev"])
def test_dev_and_local_never_page_even_with_a_pagerduty_key_configured(environment: str) -> None:
    config = canary_config(environment)
    assert config.alerting.pagerduty is not None
    assert not config.alerting.page_on_call
    doc = alertmanager_config(alertmanager_plan(config))
    assert not [key for key, _ in walk(doc) if key.startswith("pagerduty")]
    assert "pagerduty" not in receivers_by_name(doc)
    assert PAGERDUTY_ROUTING_KEY_FILE not in receiver_secret_files(alertmanager_plan(config))
    assert [r["receiver"] for r in routes_for(doc, 'severity="critical"')] == ["slack-critical"]


@pytest.mark.parametrize("stack", ["local", "dev"])
def test_repository_dev_and_local_stacks_have_no_pagerduty_at_all(stack: str) -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config(stack)))
    assert "pagerduty" not in json.dumps(doc)


@pytest.mark.parametrize(
    ("stack", "incidents"), [("staging", "#bh-staging-incidents"), ("prod", "#bh-incidents")]
)
def test_staging_and_prod_page_critical_then_post_it_to_the_incidents_channel(
    stack: str, incidents: str
) -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config(stack)))
    critical = routes_for(doc, 'severity="critical"')
    assert [(r["receiver"], r.get("continue", False)) for r in critical] == [
        ("pagerduty", True),
        ("slack-critical", False),
    ]
    (pd,) = receivers_by_name(doc)["pagerduty"]["pagerduty_configs"]
    assert pd["routing_key_file"].endswith(f"/{PAGERDUTY_ROUTING_KEY_FILE}")
    assert pd["url"] == "https://events.pagerduty.com/v2/enqueue"
    assert pd["send_resolved"] is True
    assert pd["severity"] == "critical"
    assert pd["source"] == f"blue-harvest-{stack}"
    assert {"environment", "service", "summary", "runbook_url", "firing"} <= set(pd["details"])
    (slack,) = receivers_by_name(doc)["slack-critical"]["slack_configs"]
    assert slack["channel"] == incidents


def test_the_pagerduty_endpoint_comes_from_the_config() -> None:
    config = make_config(
        "staging",
        alerting={"pagerduty": {"routingKey": PD_KEY, "url": "http://127.0.0.1:19/v2/enqueue"}},
    )
    (pd,) = receivers_by_name(alertmanager_config(alertmanager_plan(config)))["pagerduty"][
        "pagerduty_configs"
    ]
    assert pd["url"] == "http://127.0.0.1:19/v2/enqueue"


def test_each_severity_posts_to_its_own_slack_channel() -> None:
    doc = alertmanager_config(alertmanager_plan(canary_config("staging")))
    receivers = receivers_by_name(doc)
    channels = {
        name: receivers[name]["slack_configs"][0]["channel"]
        for name in ("slack-critical", "slack-warning", "slack-info")
    }
    assert channels == {
        "slack-critical": "#t-crit",
        "slack-warning": "#t-warn",
        "slack-info": "#t-info",
    }
    assert [r["receiver"] for r in routes_for(doc, 'severity="warning"')] == ["slack-warning"]
    files = {name: receivers[name]["slack_configs"][0]["api_url_file"] for name in channels}
    assert len(set(files.values())) == 3  # a webhook posts to one channel: one file each
    secrets = receiver_secret_files(alertmanager_plan(canary_config("staging")))
    for name, path in files.items():
        severity = name.removeprefix("slack-")
        assert secrets[path.rsplit("/", 1)[1]].get_secret_value() == SLACK_URLS[severity]
    for name in channels:
        (slack,) = receivers[name]["slack_configs"]
        # Info is at most daily: no resolve message each time a flapping info clears.
        assert slack["send_resolved"] is (name != "slack-info")
        assert "[staging]" in slack["title"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_give_each_severity_its_own_channel(stack: str) -> None:
    slack = stack_config(stack).alerting.slack
    assert slack is not None
    channels = [slack.critical.channel, slack.warning.channel, slack.info.channel]
    assert len(set(channels)) == 3


def test_no_repository_stack_uses_another_stacks_channels() -> None:
    seen: dict[str, str] = {}
    for stack in STACK_NAMES:
        slack = stack_config(stack).alerting.slack
        if slack is None:
            continue
        for entry in (slack.critical, slack.warning, slack.info):
            assert seen.setdefault(entry.channel, stack) == stack, entry.channel
    assert {"#bh-incidents", "#bh-alerts", "#bh-alerts-low"} <= set(seen)
    assert seen["#bh-incidents"] == "prod"


def test_info_goes_to_the_low_noise_channel_and_the_email_report() -> None:
    doc = alertmanager_config(alertmanager_plan(canary_config("prod")))
    info = routes_for(doc, 'severity="info"')
    assert [(r["receiver"], r.get("continue", False)) for r in info] == [
        ("slack-info", True),
        ("email-report", False),
    ]
    (email,) = receivers_by_name(doc)["email-report"]["email_configs"]
    assert email["to"] == "reports@blueharvest.example"
    assert email["from"] == "am@blueharvest.example"
    assert email["smarthost"] == "smtp.blueharvest.example:587"
    assert email["auth_username"] == "am"
    assert email["require_tls"] is True


def test_an_email_without_credentials_has_no_password_file() -> None:
    config = make_config(
        "dev",
        alerting={
            "email": {
                "to": "r@blueharvest.example",
                "from": "a@blueharvest.example",
                "smarthost": "relay.blueharvest.example:25",
                "requireTls": False,
            }
        },
    )
    doc = alertmanager_config(alertmanager_plan(config))
    (email,) = receivers_by_name(doc)["email-report"]["email_configs"]
    assert "auth_password_file" not in email
    assert "auth_username" not in email
    assert email["require_tls"] is False
    assert receiver_secret_files(alertmanager_plan(config)) == {}


def test_without_slack_the_email_report_takes_every_severity() -> None:
    config = make_config(
        "dev",
        alerting={
            "email": {
                "to": "r@blueharvest.example",
                "from": "a@blueharvest.example",
                "smarthost": "relay.blueharvest.example:25",
            }
        },
    )
    plan = routing_plan(config)
    assert (plan.critical, plan.warning, plan.info, plan.default) == (
        ("email-report",),
        ("email-report",),
        ("email-report",),
        "email-report",
    )


def test_a_stack_with_no_channel_routes_everything_to_the_null_receiver() -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config("local")))
    assert doc["receivers"] == [{"name": "null"}]
    assert routed_receivers(doc) == {"null"}


def test_unlabelled_alerts_fall_back_to_the_team_channel() -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config("prod")))
    assert doc["route"]["receiver"] == "slack-warning"
    assert all("matchers" in r for r in doc["route"]["routes"])


def test_watchdog_goes_to_null_when_no_heartbeat_url_is_configured() -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config("dev")))
    (watchdog,) = routes_for(doc, 'alertname="Watchdog"')
    assert watchdog == {"receiver": "null", "matchers": ['alertname="Watchdog"']}
    assert doc["route"]["routes"][0] is watchdog
    assert HEARTBEAT_URL_FILE not in receiver_secret_files(alertmanager_plan(stack_config("dev")))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_watchdog_pings_the_heartbeat_url_read_from_a_file(stack: str) -> None:
    config = stack_config(stack)
    doc = alertmanager_config(alertmanager_plan(config))
    (watchdog,) = routes_for(doc, 'alertname="Watchdog"')
    assert doc["route"]["routes"][0] is watchdog  # before any severity route: it never pages
    assert watchdog == {
        "receiver": "heartbeat",
        "matchers": ['alertname="Watchdog"'],
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1m",
        "repeat_interval": "5m",
    }
    assert receivers_by_name(doc)["heartbeat"] == {
        "name": "heartbeat",
        "webhook_configs": [
            {"url_file": f"{DEFAULT_SECRETS_DIR}/{HEARTBEAT_URL_FILE}", "send_resolved": False}
        ],
    }
    assert HEARTBEAT_URL_FILE in receiver_secret_files(alertmanager_plan(config))


def test_the_heartbeat_interval_is_the_watchdog_repeat_interval() -> None:
    config = canary_config("local", heartbeatInterval="90s")
    (watchdog,) = routes_for(alertmanager_config(alertmanager_plan(config)), 'alertname="Watchdog"')
    assert (watchdog["receiver"], watchdog["repeat_interval"]) == ("heartbeat", "90s")


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_info_notifications_repeat_at_most_daily(stack: str) -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config(stack)))
    info = routes_for(doc, 'severity="info"')
    assert info
    assert all(r["repeat_interval"] == "24h" for r in info)
    assert all("repeat_interval" not in r for r in routes_for(doc, 'severity="warning"'))


def test_the_info_repeat_interval_comes_from_the_config() -> None:
    config = canary_config("prod", grouping={"infoRepeatInterval": "2d"})
    doc = alertmanager_config(alertmanager_plan(config))
    assert {r["repeat_interval"] for r in routes_for(doc, 'severity="info"')} == {"2d"}


def test_the_charts_info_inhibitor_alert_notifies_nobody() -> None:
    doc = alertmanager_config(alertmanager_plan(stack_config("prod")))
    assert [r["receiver"] for r in routes_for(doc, 'alertname="InfoInhibitor"')] == ["null"]


def test_paging_without_a_pagerduty_section_is_refused_not_silently_dropped() -> None:
    config = stack_config("prod")
    broken = config.model_copy(
        update={"alerting": config.alerting.model_copy(update={"pagerduty": None})}
    )
    with pytest.raises(ValueError, match="pagerduty"):
        alertmanager_plan(broken)


def test_rendering_is_deterministic() -> None:
    plan = alertmanager_plan(canary_config("prod"))
    first = json.dumps(alertmanager_config(plan))
    assert json.dumps(alertmanager_config(plan)) == first
    assert json.dumps(alertmanager_config(alertmanager_plan(canary_config("prod")))) == first


def test_the_renderer_imports_no_pulumi() -> None:
    code = (
        "import sys, infra.render.alertmanager, infra.plan.routing\n"
        "assert not [m for m in sys.modules if m.split('.')[0].startswith('pulumi')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_a_plan_built_by_hand_renders_without_a_config() -> None:
    """The renderer takes the plan alone: routing decided elsewhere is rendered as given."""
    plan = AlertmanagerPlan(
        environment="dev",
        routing=RoutingPlan(
            critical=("null",), warning=("null",), info=("null",), watchdog="null", default="null"
        ),
        grouping=GroupingConfig(),
        heartbeat_interval="5m",
    )
    doc = alertmanager_config(plan)
    assert doc["receivers"] == [{"name": "null"}]
    assert routed_receivers(doc) == {"null"}
    assert receiver_secret_files(plan) == {}
