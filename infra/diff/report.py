"""Render a DiffReport for a terminal (rich) or a pull-request comment (markdown)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.diff.model import DiffReport, PropertyChange, StackDiff

_MAX = 80


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("\n", "⏎")
    return text if len(text) <= _MAX else text[: _MAX - 1] + "…"


def _prop(p: PropertyChange) -> str:
    flag = " (forces replacement)" if p.forces_replacement else ""
    return f"`{p.path}`: `{_short(p.before)}` → `{_short(p.after)}`{flag}"


def summary_rows(s: StackDiff) -> dict[str, int]:
    kinds = [r.kind for r in s.resources]
    return {
        "added": kinds.count("added"),
        "changed": kinds.count("changed"),
        "replaced": kinds.count("replaced"),
        "deleted": kinds.count("deleted"),
        "data loss": len(s.data_loss),
        "rules": len(s.rules),
        "lost paging": len(s.lost_paging),
        "dashboards": len(s.dashboards),
    }


def warnings(s: StackDiff) -> list[str]:
    out = [f"DATA LOSS: {r.kind} {r.type} `{r.urn.rsplit('::', 1)[-1]}`" for r in s.data_loss]
    out += [
        f"LOST PAGING: {p.alert} ({p.service or 'no service'}) no longer pages anyone:"
        f" {', '.join(p.before)} → {', '.join(p.after) or 'nothing'}"
        for p in s.lost_paging
    ]
    return out


def markdown(report: DiffReport) -> str:
    lines = [f"### estate diff `{report.base[:12]}` → `{report.head[:12]}`", ""]
    if report.empty:
        return "\n".join([*lines, "No changes to the estate.", ""])
    header = ["stack", *summary_rows(report.stacks[0])]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for s in report.stacks:
        lines.append(
            f"| {s.stack} | " + " | ".join(str(v) for v in summary_rows(s).values()) + " |"
        )
    lines.append("")
    for s in report.stacks:
        lines += [f"> **{w}** ({s.stack})" for w in warnings(s)]
    lines.append("")
    for s in report.stacks:
        if s.empty:
            continue
        lines += [f"<details><summary><b>{s.stack}</b></summary>", ""]
        lines += [f"_{n}_" for n in s.notes]
        if s.resources:
            lines.append("#### Resources")
            for r in s.resources:
                loss = " **(data loss)**" if r.data_loss else ""
                lines.append(f"- **{r.kind}** `{r.type}` `{r.urn.rsplit('::', 1)[-1]}`{loss}")
                lines += [f"  - {_prop(p)}" for p in r.properties]
        if s.rules:
            lines.append("#### Alert rules")
            for c in s.rules:
                lines.append(f"- **{c.kind}** {c.alert} ({c.service or '-'})")
                lines += [f"  - {_prop(p)}" for p in c.fields]
        if s.paging:
            lines.append("#### Paging impact")
            for p in s.paging:
                mark = (
                    " **no longer pages**"
                    if p.lost_paging
                    else (" **now pages**" if p.pages_after and not p.paged_before else "")
                )
                lines.append(
                    f"- {p.alert} ({p.service or '-'}): {', '.join(p.before) or 'nothing'} →"
                    f" {', '.join(p.after) or 'nothing'}{mark}"
                )
        if s.routing:
            lines.append("#### Routing tree")
            lines += [f"- {_prop(p)}" for p in s.routing]
        if s.dashboards:
            lines.append("#### Dashboards")
            for d in s.dashboards:
                lines.append(f"- **{d.kind}** {d.title} (`{d.uid}`)")
                for panel in d.panels:
                    lines.append(f"  - {panel.kind} panel {panel.panel}")
                    lines += [f"    - {_prop(p)}" for p in panel.fields]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def to_json(report: DiffReport) -> str:
    return json.dumps(asdict(report), indent=2, sort_keys=True, default=str) + "\n"


def terminal(report: DiffReport, console: Console) -> None:
    console.print(f"estate diff {report.base[:12]} → {report.head[:12]}", markup=False)
    if report.empty:
        console.print("No changes to the estate.")
        return
    table = Table()
    table.add_column("stack")
    first = summary_rows(report.stacks[0])
    for name in first:
        table.add_column(name, justify="right")
    for s in report.stacks:
        table.add_row(s.stack, *(str(v) for v in summary_rows(s).values()))
    console.print(table)
    for s in report.stacks:
        for w in warnings(s):
            console.print(f"[bold red]{s.stack}: {w}[/]", markup=True, highlight=False)
    console.print(markdown(report), markup=False)
