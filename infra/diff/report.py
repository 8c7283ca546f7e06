"""Render a DiffReport as plain text (terminal), markdown (pull-request comment) or JSON.

Everything a change carries (names, keys, values) is printed literally: no console markup
or emoji codes are interpreted (`[red]x[/red]` and `:bomb:` print as typed), and in
markdown every such string sits in a code span, where GitHub renders neither emoji nor
mentions. Values are JSON-encoded, so `"90"` and `90` differ visibly, and a long value is
never cut where it would hide a difference: the common beginning and end are elided with
`…` and the differing part is shown whole.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rich.console import Console
from rich.text import Text

from infra.diff.model import (
    DiffReport,
    MetricsStoreChange,
    PropertyChange,
    ResourceChange,
    SloChange,
    StackDiff,
)
from infra.text import code

#: What `--fail-on` accepts.
FailOn = Literal["data-loss", "lost-paging", "protected"]
FAIL_ON: tuple[FailOn, ...] = ("data-loss", "lost-paging", "protected")

#: Values up to this many characters are shown whole.
WIDTH = 80
#: Characters of unchanged text kept on each side of a difference.
CONTEXT = 20
ELLIPSIS = "…"


# --- values -------------------------------------------------------------------------------


def encode(value: Any) -> str:
    """A value as JSON (strings quoted, newlines escaped); `(none)` for a missing one."""
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def difference(before: Any, after: Any) -> tuple[str, str]:
    """Both sides of a change, encoded; when either is longer than WIDTH, the common
    beginning and end are elided (keeping CONTEXT characters) and the differing part is
    kept whole, so two different values never print alike."""
    a, b = encode(before), encode(after)
    if (len(a) <= WIDTH and len(b) <= WIDTH) or before is None or after is None:
        return a, b
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - CONTEXT)
    keep_end = max(0, suffix - CONTEXT)
    return _window(a, start, len(a) - keep_end), _window(b, start, len(b) - keep_end)


def _window(text: str, start: int, end: int) -> str:
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text) else ""
    return f"{head}{text[start:end]}{tail}"


def _name(r: ResourceChange) -> str:
    return r.urn.rsplit("::", 1)[-1]


# --- what a reviewer must not miss ----------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One line a reviewer must not miss: its stack, its kind and what happens."""

    stack: str
    kind: FailOn
    action: str
    """What happens to the subject: deleted, replaced; empty for paging."""
    subject: tuple[str, ...]
    """The literal names involved (type, resource name; or alert, service)."""
    message: str
    """Plain text, subject included."""


def headlines(s: StackDiff) -> list[Headline]:
    out = [
        Headline(
            s.stack,
            "data-loss",
            r.kind,
            (r.type, _name(r)),
            f"DATA LOSS: {r.kind} {r.type} {_name(r)}",
        )
        for r in s.data_loss
    ]
    out += [
        Headline(
            s.stack,
            "protected",
            r.kind,
            (r.type, _name(r)),
            f"PROTECTED: {r.kind} {r.type} {_name(r)}: the resource is protected, so"
            " pulumi up stops here until someone unprotects it on purpose",
        )
        for r in s.blocked
    ]
    out += [
        Headline(
            s.stack,
            "lost-paging",
            "",
            (p.alert, p.service or "no service"),
            f"LOST PAGING: {p.alert} ({p.service or 'no service'}) no longer pages anyone:"
            f" {', '.join(p.before)} → {', '.join(p.after) or 'nothing'}",
        )
        for p in s.lost_paging
    ]
    if s.metrics_store is not None:
        out += [
            Headline(
                s.stack,
                "data-loss",
                "deleted",
                ("metrics store", loss),
                f"DATA LOSS: metrics store: {loss}",
            )
            for loss in s.metrics_store.losses
        ]
    return out


def parse_fail_on(value: str) -> tuple[FailOn, ...]:
    """`data-loss,lost-paging` → the kinds; ValueError naming the bad value and the allowed."""
    allowed = ", ".join(FAIL_ON)
    items = [item.strip() for item in value.split(",")]
    if not any(items):
        raise ValueError(f"--fail-on needs one or more of: {allowed}")
    kinds: list[FailOn] = []
    for item in items:
        kind = next((k for k in FAIL_ON if k == item), None)
        if kind is None:
            raise ValueError(f"--fail-on: unknown value {item!r}; allowed: {allowed}")
        if kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def failures(report: DiffReport, kinds: tuple[FailOn, ...]) -> list[str]:
    """One line per stack that has any of `kinds`, e.g. `prod: 2 data-loss, 2 protected`."""
    out = []
    for s in report.stacks:
        found = [h.kind for h in headlines(s) if h.kind in kinds]
        if found:
            counts = ", ".join(f"{found.count(k)} {k}" for k in kinds if k in found)
            out.append(f"{s.stack}: {counts}")
    return out


def summary_rows(s: StackDiff) -> dict[str, int]:
    kinds = [r.kind for r in s.resources]
    return {
        "added": kinds.count("added"),
        "changed": kinds.count("changed"),
        "replaced": kinds.count("replaced"),
        "deleted": kinds.count("deleted"),
        "data loss": len(s.data_loss),
        "protected": len(s.blocked),
        "rules": len(s.rules),
        "lost paging": len(s.lost_paging),
        "dashboards": len(s.dashboards),
        "slos": len(s.slos),
    }


def _slo_lines(c: SloChange) -> Iterator[tuple[str, str, str]]:
    """(label, before, after) lines of an SLO change: objective, window, what pages, what
    opens a ticket, each printed even when unchanged (the reader sees the whole policy)."""

    def tiers(names: tuple[str, ...]) -> str:
        return ", ".join(names) or "nothing"

    yield "objective", encode(c.objective_before), encode(c.objective_after)
    if c.window_before or c.window_after:
        yield "window", c.window_before or "(none)", c.window_after or "(none)"
    yield "pages", tiers(c.pages_before), tiers(c.pages_after)
    yield "tickets", tiers(c.tickets_before), tiers(c.tickets_after)


def _store_lines(c: MetricsStoreChange) -> Iterator[tuple[str, str, str]]:
    """(label, before, after): where samples go, the store's IAM roles, the retentions."""
    a, b = c.before, c.after
    yield "samples go to", a.where, b.where
    if a.roles != b.roles:
        yield "IAM roles", "; ".join(a.roles) or "none", "; ".join(b.roles) or "none"
    if a.local_retention != b.local_retention:
        yield "local retention", a.local_retention or "(none)", b.local_retention or "(none)"


# --- plain text -----------------------------------------------------------------------------

Style = Literal["", "title", "alert"]


def _prop_text(p: PropertyChange) -> str:
    before, after = difference(p.before, p.after)
    flag = " (forces replacement)" if p.forces_replacement else ""
    return f"{p.path}: {before} → {after}{flag}"


def _text_lines(report: DiffReport) -> Iterator[tuple[str, Style]]:
    yield f"estate diff {report.base[:12]} → {report.head[:12]}", "title"
    if report.empty:
        yield "No changes to the estate.", ""
        return
    header = ["stack", *summary_rows(report.stacks[0])]
    rows = [[s.stack, *(str(v) for v in summary_rows(s).values())] for s in report.stacks]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    yield "", ""
    for row in [header, *rows]:
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in numbers)]
        yield "  ".join(cells).rstrip(), ""
    alerts = [h for s in report.stacks for h in headlines(s)]
    if alerts:
        yield "", ""
    for h in alerts:
        yield f"{h.stack}: {h.message}", "alert"
    for s in report.stacks:
        if s.empty and not s.notes:
            continue
        yield "", ""
        yield f"== {s.stack} ==", "title"
        yield from ((f"({n})", "") for n in s.notes)
        if s.metrics_store is not None:
            yield from _store_text(s.metrics_store)
        if s.resources:
            yield "Resources", "title"
            for r in s.resources:
                marks = [
                    m for m, on in (("data loss", r.data_loss), ("protected", r.blocked)) if on
                ]
                extra = f" ({', '.join(marks)})" if marks else ""
                yield f"  {r.kind} {r.type} {_name(r)}{extra}", "alert" if marks else ""
                yield from ((f"    {_prop_text(p)}", "") for p in r.properties)
        if s.rules:
            yield "Alert rules", "title"
            for c in s.rules:
                yield f"  {c.kind} {c.alert} ({c.service or '-'})", ""
                yield from ((f"    {_prop_text(p)}", "") for p in c.fields)
        if s.paging:
            yield "Paging impact", "title"
            for pc in s.paging:
                mark = _paging_mark(pc.lost_paging, pc.pages_after and not pc.paged_before)
                yield (
                    f"  {pc.alert} ({pc.service or '-'}): {', '.join(pc.before) or 'nothing'} →"
                    f" {', '.join(pc.after) or 'nothing'}{mark}",
                    "alert" if pc.lost_paging else "",
                )
        if s.routing:
            yield "Routing tree", "title"
            yield from ((f"  {_prop_text(p)}", "") for p in s.routing)
        if s.dashboards:
            yield "Dashboards", "title"
            for d in s.dashboards:
                yield f"  {d.kind} {d.title} ({d.uid})", ""
                for panel in d.panels:
                    yield f"    {panel.kind} panel {panel.panel}", ""
                    yield from ((f"      {_prop_text(p)}", "") for p in panel.fields)
        if s.slos:
            yield "SLOs", "title"
            for sc in s.slos:
                yield f"  {sc.kind} {sc.slo} ({sc.service or '-'}, {sc.sli or '-'})", ""
                for label, before, after in _slo_lines(sc):
                    same = " (unchanged)" if before == after else ""
                    yield f"    {label}: {before} → {after}{same}", ""
                yield from ((f"    {_prop_text(p)}", "") for p in sc.moved)


def _store_text(c: MetricsStoreChange) -> Iterator[tuple[str, Style]]:
    yield "Metrics store", "title"
    for label, before, after in _store_lines(c):
        yield f"  {label}: {before} → {after}", ""
    for effect in c.effects:
        yield f"  {effect}", "alert" if effect.startswith("DATA LOSS") else ""
    yield from ((f"  DATA LOSS: {loss}", "alert") for loss in c.losses)


def _paging_mark(lost: bool, gained: bool) -> str:
    return " (no longer pages)" if lost else (" (now pages)" if gained else "")


def text(report: DiffReport) -> str:
    """The report as plain text, exactly as the terminal shows it (without colours)."""
    return "".join(f"{line}\n" for line, _ in _text_lines(report))


_STYLES: dict[Style, str] = {"": "", "title": "bold", "alert": "bold red"}


def terminal(report: DiffReport, console: Console) -> None:
    """Print `text(report)`, headlines in bold red on a terminal. Each line is a rich Text,
    which is never parsed for markup or emoji codes, and is neither wrapped nor cropped."""
    for line, style in _text_lines(report):
        console.print(Text(line, style=_STYLES[style]), soft_wrap=True, highlight=False)


# --- markdown -------------------------------------------------------------------------------


def _prop_md(p: PropertyChange) -> str:
    before, after = difference(p.before, p.after)
    flag = " (forces replacement)" if p.forces_replacement else ""
    return f"{code(p.path)}: {code(before)} → {code(after)}{flag}"


def _headline_md(h: Headline) -> str:
    if h.kind == "lost-paging":
        alert, service = h.subject
        subject = f"{code(alert)} ({code(service)})"
    elif h.subject[0] == "metrics store":
        subject = f"metrics store: {literal(h.subject[1])}"
    else:
        subject = " ".join([h.action, *(code(x) for x in h.subject)])
    label = {"data-loss": "DATA LOSS", "protected": "PROTECTED", "lost-paging": "LOST PAGING"}
    rest = {
        "data-loss": "",
        "protected": ": protected, so `pulumi up` stops here until someone unprotects it",
        "lost-paging": " no longer pages anyone",
    }
    return f"> **{label[h.kind]}** in {code(h.stack)}: {subject}{rest[h.kind]}"


#: Characters CommonMark (and GitHub: emoji codes, mentions) would read as markup.
_MARKUP = frozenset("\\`*_{}[]<>()#+!|~:@&")


def literal(value: str) -> str:
    """A sentence as markdown text that renders exactly as written: every character that
    could start markup is backslash-escaped (emoji codes, mentions, links, HTML)."""
    return "".join(f"\\{c}" if c in _MARKUP else c for c in value.replace("\n", " "))


def _effect_md(effect: str) -> str:
    rest = effect.removeprefix("DATA LOSS: ")
    return f"**DATA LOSS:** {literal(rest)}" if rest != effect else literal(effect)


def markdown(report: DiffReport) -> str:
    lines = [f"### estate diff {code(report.base[:12])} → {code(report.head[:12])}", ""]
    if report.empty:
        return "\n".join([*lines, "No changes to the estate.", ""])
    header = ["stack", *summary_rows(report.stacks[0])]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for s in report.stacks:
        values = " | ".join(str(v) for v in summary_rows(s).values())
        lines.append(f"| {code(s.stack, cell=True)} | {values} |")
    lines.append("")
    for s in report.stacks:
        lines += [_headline_md(h) for h in headlines(s)]
    lines.append("")
    for s in report.stacks:
        if s.empty and not s.notes:
            continue
        lines += [f"<details><summary><code>{html.escape(s.stack)}</code></summary>", ""]
        lines += [f"_{n}_" for n in s.notes]
        if s.metrics_store is not None:
            lines.append("#### Metrics store")
            for label, before, after in _store_lines(s.metrics_store):
                lines.append(f"- {label}: {code(before)} → {code(after)}")
            lines += [f"- {_effect_md(effect)}" for effect in s.metrics_store.effects]
            lines += [f"- **DATA LOSS:** {literal(loss)}" for loss in s.metrics_store.losses]
        if s.resources:
            lines.append("#### Resources")
            for r in s.resources:
                marks = " **(data loss)**" if r.data_loss else ""
                marks += " **(protected)**" if r.blocked else ""
                lines.append(f"- **{r.kind}** {code(r.type)} {code(_name(r))}{marks}")
                lines += [f"  - {_prop_md(p)}" for p in r.properties]
        if s.rules:
            lines.append("#### Alert rules")
            for c in s.rules:
                lines.append(f"- **{c.kind}** {code(c.alert)} ({code(c.service or '-')})")
                lines += [f"  - {_prop_md(p)}" for p in c.fields]
        if s.paging:
            lines.append("#### Paging impact")
            for p in s.paging:
                mark = (
                    " **no longer pages**"
                    if p.lost_paging
                    else (" **now pages**" if p.pages_after and not p.paged_before else "")
                )
                before = ", ".join(code(x) for x in p.before) or "nothing"
                after = ", ".join(code(x) for x in p.after) or "nothing"
                lines.append(
                    f"- {code(p.alert)} ({code(p.service or '-')}): {before} → {after}{mark}"
                )
        if s.routing:
            lines.append("#### Routing tree")
            lines += [f"- {_prop_md(p)}" for p in s.routing]
        if s.dashboards:
            lines.append("#### Dashboards")
            for d in s.dashboards:
                lines.append(f"- **{d.kind}** {code(d.title)} ({code(d.uid)})")
                for panel in d.panels:
                    lines.append(f"  - {panel.kind} panel {code(panel.panel)}")
                    lines += [f"    - {_prop_md(p)}" for p in panel.fields]
        if s.slos:
            lines.append("#### SLOs")
            for sc in s.slos:
                lines.append(
                    f"- **{sc.kind}** {code(sc.slo)}"
                    f" ({code(sc.service or '-')}, {code(sc.sli or '-')})"
                )
                for label, before, after in _slo_lines(sc):
                    same = " (unchanged)" if before == after else ""
                    lines.append(f"  - {label}: {code(before)} → {code(after)}{same}")
                lines += [f"  - {_prop_md(p)}" for p in sc.moved]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


# --- json -----------------------------------------------------------------------------------


def to_json(report: DiffReport) -> str:
    doc = asdict(report)
    doc["headlines"] = [asdict(h) for s in report.stacks for h in headlines(s)]
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"
