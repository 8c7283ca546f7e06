"""The operator docs stay complete: docs/alerting.md catalogues every alert (the pipeline group
too) and says every step of adding one; docs/dashboards.md lists every dashboard and says how
to add one end to end."""

from __future__ import annotations

import re

import pytest

from alerts import ALERT_NAMES, rule_groups
from alerts.slos import FAST_BURN, SLOW_BURN
from infra.catalog.dashboard_refs import DASHBOARDS, Dashboard
from infra.rules import iter_alerts
from tests.conftest import ROOT, stack_config

ALERTING = (ROOT / "docs" / "alerting.md").read_text()
#: Every alert name the estate can declare: the tuned alerts and the SLO burn alerts.
KNOWN_ALERTS = {*ALERT_NAMES, FAST_BURN, SLOW_BURN}
DASHBOARDS_DOC = (ROOT / "docs" / "dashboards.md").read_text()


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


def _catalogue() -> dict[str, tuple[str, str]]:
    """alert -> (group, severity) from the catalogue table."""
    rows: dict[str, tuple[str, str]] = {}
    for line in _section(ALERTING, "Alert catalogue").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[1] in KNOWN_ALERTS:
            rows[cells[1]] = (cells[0], cells[2])
    return rows


def test_the_catalogue_lists_every_alert_with_its_group_and_severity() -> None:
    catalogue = _catalogue()
    assert set(catalogue) == KNOWN_ALERTS
    for group in rule_groups(stack_config("prod")):
        for alert in iter_alerts([group]):
            documented_group, severity = catalogue[alert.name]
            assert documented_group == group.name, alert.name
            assert alert.severity in severity, alert.name


def test_the_pipeline_groups_alerts_are_catalogued() -> None:
    (pipeline,) = (g for g in rule_groups(stack_config("prod")) if g.name == "pipeline")
    names = {a.name for a in iter_alerts([pipeline])}
    assert names
    assert {n for n, (g, _) in _catalogue().items() if g == "pipeline"} == names


@pytest.mark.parametrize(
    "step",
    [
        "DEFAULT_TUNING",  # tuning
        "alerts/tests/<group>.yaml",  # promtool cases
        "tests/alerts/test_sensitivity.py",  # the sensitivity cases
        "CASES",
        "infra/catalog/dashboard_refs.py",  # the panel link
        "UPDATE_SNAPSHOTS=1",
        "container_selector",  # namespaces from the settings
        "alerts/routing/<stack>.yaml",
    ],
)
def test_adding_an_alert_names_each_step(step: str) -> None:
    assert step in _section(ALERTING, "Adding an alert")


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_every_dashboard_is_listed(dashboard: Dashboard) -> None:
    uid, title = dashboard.uid, dashboard.title
    row = next((line for line in DASHBOARDS_DOC.splitlines() if f"`{uid}`" in line), None)
    assert row is not None, uid
    assert row.startswith(f"| {title}"), row


@pytest.mark.parametrize(
    "step",
    [
        "dashboard_refs.py",
        "DASHBOARDS",
        "build_all",
        "metrics_catalog.py",
        "UPDATE_SNAPSHOTS=1",
        "tests/e2e/test_dashboards_e2e.py",
        "make check",
    ],
)
def test_adding_a_dashboard_names_each_step(step: str) -> None:
    assert step in _section(DASHBOARDS_DOC, "Adding a dashboard, end to end")
