"""Rendering a diff: headlines with their stack, --fail-on, literal text, no hidden difference."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from infra.diff.model import (
    DashboardChange,
    DiffReport,
    PagingChange,
    PanelChange,
    PropertyChange,
    ResourceChange,
    RuleChange,
    StackDiff,
)
from infra.diff.report import (
    FAIL_ON,
    difference,
    failures,
    headlines,
    markdown,
    parse_fail_on,
    terminal,
    text,
    to_json,
)
from infra.text import code

GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _group(name: str, kind: str, *, protected: bool, retained: bool = False) -> ResourceChange:
    return ResourceChange(
        f"urn:pulumi:prod::blue-harvest::{GROUP}::{name}",
        GROUP,
        kind,  # type: ignore[arg-type]
        (PropertyChange("name", f"/blue-harvest/{name}", f"/bh/{name}", True),),
        stateful=True,
        retained=retained,
        protected=protected,
    )


def _lost(alert: str = "HighErrorRate") -> PagingChange:
    return PagingChange(alert, "backend", ("pagerduty",), ("slack-warning",), True, False)


def _report(*stacks: StackDiff) -> DiffReport:
    return DiffReport(base="a" * 40, head="b" * 40, stacks=stacks)


def test_a_protected_replacement_is_headlined_with_its_stack() -> None:
    report = _report(
        StackDiff("prod", resources=(_group("logs-backend", "replaced", protected=True),)),
        StackDiff("dev", resources=(_group("logs-backend", "replaced", protected=False),)),
    )
    prod, dev = report.stacks
    assert [h.kind for h in headlines(prod)] == ["data-loss", "protected"]
    assert [h.kind for h in headlines(dev)] == ["data-loss"]
    plain = text(report)
    assert (
        f"prod: PROTECTED: replaced {GROUP} logs-backend: the resource is protected, so"
        " pulumi up stops here until someone unprotects it on purpose"
    ) in plain
    assert "dev: PROTECTED" not in plain
    assert f"prod: DATA LOSS: replaced {GROUP} logs-backend" in plain
    md = markdown(report)
    assert f"> **PROTECTED** in `prod`: replaced `{GROUP}` `logs-backend`" in md
    assert "> **PROTECTED** in `dev`" not in md
    doc = json.loads(to_json(report))
    assert {(h["stack"], h["kind"]) for h in doc["headlines"]} == {
        ("prod", "data-loss"),
        ("prod", "protected"),
        ("dev", "data-loss"),
    }


def test_a_protected_deletion_is_headlined_and_a_protected_change_is_not() -> None:
    deleted = _group("logs-frontend", "deleted", protected=True, retained=True)
    changed = ResourceChange(deleted.urn, GROUP, "changed", protected=True, stateful=True)
    (h,) = headlines(StackDiff("prod", resources=(deleted, changed)))
    assert (h.kind, h.action, h.subject) == ("protected", "deleted", (GROUP, "logs-frontend"))


def test_fail_on_names_each_stack_and_what_it_has() -> None:
    report = _report(
        StackDiff(
            "prod",
            resources=(
                _group("logs-backend", "replaced", protected=True),
                _group("logs-frontend", "replaced", protected=True),
            ),
            paging=(_lost(),),
        ),
        StackDiff("staging", paging=(_lost("ServiceDown"),)),
        StackDiff("dev"),
    )
    assert failures(report, FAIL_ON) == [
        "prod: 2 data-loss, 1 lost-paging, 2 protected",
        "staging: 1 lost-paging",
    ]
    assert failures(report, ("protected",)) == ["prod: 2 protected"]
    assert failures(_report(StackDiff("dev")), FAIL_ON) == []


def test_fail_on_values_are_validated() -> None:
    assert parse_fail_on("data-loss,lost-paging,protected") == FAIL_ON
    assert parse_fail_on(" protected , data-loss,protected") == ("protected", "data-loss")
    with pytest.raises(ValueError, match="unknown value 'dataloss'") as bad:
        parse_fail_on("dataloss,protected")
    assert "allowed: data-loss, lost-paging, protected" in str(bad.value)
    with pytest.raises(ValueError, match="one or more of"):
        parse_fail_on(",")


def test_long_values_show_the_part_that_differs() -> None:
    common = 'sum(rate(http_requests_total{service=~"backend|frontend",status=~"5.."}[5m]))'
    before = f"{common} / sum(rate(http_requests_total[5m])) > 0.05"
    after = f"{common} / sum(rate(http_requests_total[5m])) > 0.50"
    assert len(before) > 80
    a, b = difference(before, after)
    assert a != b
    assert a.startswith("…")
    assert a.endswith('0.05"')
    assert b.endswith('0.50"')
    # Values that differ only past the 80th character used to print alike.
    head = "x" * 200
    a, b = difference(head + "1" + "y" * 200, head + "2" + "y" * 200)
    assert (a, b) == (f"…{'x' * 20}1{'y' * 20}…", f"…{'x' * 20}2{'y' * 20}…")
    # A differing part is shown whole, however long.
    a, b = difference("p" * 100, "q" * 300)
    assert (a, b) == (f'"{"p" * 100}"', f'"{"q" * 300}"')


def test_values_are_encoded_so_unlike_values_never_print_alike() -> None:
    assert difference("90", 90) == ('"90"', "90")
    assert difference("a\nb", "a b") == ('"a\\nb"', '"a b"')
    assert difference(None, "x") == ("(none)", '"x"')
    line = text(
        _report(StackDiff("prod", routing=(PropertyChange("route.group_wait", "30s", "5m"),)))
    )
    assert 'route.group_wait: "30s" → "5m"' in line


HOSTILE = "[red]x[/red] :bomb: `tick` |pipe| <b>@team</b>"


def _hostile_report() -> DiffReport:
    prop = PropertyChange(f"labels.{HOSTILE}", HOSTILE, f"{HOSTILE}!")
    return _report(
        StackDiff(
            "prod",
            resources=(
                ResourceChange(
                    f"urn:pulumi:prod::p::{GROUP}::{HOSTILE}",
                    GROUP,
                    "deleted",
                    (prop,),
                    stateful=True,
                    protected=True,
                ),
            ),
            rules=(RuleChange(HOSTILE, HOSTILE, "changed", (prop,)),),
            paging=(PagingChange(HOSTILE, HOSTILE, ("pagerduty",), (HOSTILE,), True, False),),
            routing=(prop,),
            dashboards=(
                DashboardChange(
                    HOSTILE, HOSTILE, "changed", (PanelChange(HOSTILE, "changed", (prop,)),)
                ),
            ),
        )
    )


def test_the_terminal_prints_names_and_values_literally() -> None:
    report = _hostile_report()
    for color in (False, True):
        buffer = io.StringIO()
        console = Console(
            file=buffer, force_terminal=color, width=60, color_system="standard" if color else None
        )
        terminal(report, console)
        printed = buffer.getvalue()
        if not color:
            # Exactly the plain text: nothing interpreted, nothing wrapped at 60 columns.
            assert printed == text(report)
        assert "💣" not in printed
        assert printed.count("[red]x[/red]") >= 10
        assert printed.count(":bomb:") >= 10
    assert "**" not in text(report)
    assert "`pulumi up`" not in text(report)
    assert "<details>" not in text(report)


def test_markdown_keeps_every_name_and_value_in_a_code_span() -> None:
    md = markdown(_hostile_report())
    # Outside code spans, nothing from the change can render (emoji, mentions, HTML).
    outside = md
    for span in _code_spans(md):
        outside = outside.replace(span, "")
    assert ":bomb:" not in outside
    assert "@team" not in outside
    assert "[red]" not in outside
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert code("a|b", cell=True) == "`a\\|b`"


def _code_spans(md: str) -> list[str]:
    spans: list[str] = []
    i = 0
    while (start := md.find("`", i)) != -1:
        fence_end = start
        while fence_end < len(md) and md[fence_end] == "`":
            fence_end += 1
        fence = md[start:fence_end]
        close = md.find(fence, fence_end)
        while close != -1 and md[close + len(fence) : close + len(fence) + 1] == "`":
            close = md.find(fence, close + len(fence) + 1)
        if close == -1:
            break
        spans.append(md[start : close + len(fence)])
        i = close + len(fence)
    return sorted(spans, key=len, reverse=True)
