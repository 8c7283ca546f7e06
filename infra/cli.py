"""`estate`: the offline tool around the estate's one Pulumi program."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.naming import InvalidStackNameError, validate_stack_name
from infra.rules import RuleError
from infra.synth import StackResult, StacksRefusedError, discover_stacks, synth_stacks
from infra.synth.writer import OutputError

#: The distribution `estate --version` reports (pyproject.toml's [project] name).
DISTRIBUTION = "blue-harvest-estate"
#: The width of stdout when it is not a terminal (a pipe, a file, a CI log): wide enough that
#: rich never folds or cuts a cell; a terminal keeps its own width.
PIPE_WIDTH = 1_000_000

app = typer.Typer(
    help="Synthesize and review the Blue Harvest observability estate offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: a flag reads `--all`, not `--all <bool>`; -h works like --help.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def package_version() -> str:
    """The installed package's version (pyproject.toml), as importlib.metadata reads it."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed: run make install)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"estate {package_version()}")
        raise typer.Exit


@app.callback()
def _main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Synthesize and review the Blue Harvest observability estate offline."""
    _fit_stdout()


def _fit_stdout() -> None:
    """A terminal keeps its width; anything else (a pipe, a file) gets lines that are never
    folded or cut, so a long name or path reaches the reader whole."""
    console.width = None if console.is_terminal else PIPE_WIDTH  # type: ignore[assignment]


StacksDir = Annotated[
    Path, typer.Option("--stacks-dir", help="Folder of Pulumi.<stack>.yaml files.")
]
OutDir = Annotated[Path, typer.Option("--out", help="Where out/<stack>/ trees are written.")]


@app.command(short_help="Synthesize stacks into out/<stack>/ and summarize them.")
def synth(
    stack: Annotated[str | None, typer.Argument(help="Stack to synthesize, e.g. dev.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every stack in --stacks-dir.")] = False,
    output: Annotated[
        str,
        typer.Option(
            "--format",
            help="text (a summary per stack) or json (one document for every stack).",
        ),
    ] = "text",
    stacks_dir: StacksDir = Path("stacks"),
    out: OutDir = Path("out"),
) -> None:
    """Run the real program under Pulumi's mock engine and write out/<stack>/; print per
    stack its resources, protected resources, paging routes and number of secrets."""
    if all_stacks == (stack is not None):
        _error("estate synth: give one stack name or --all")
        raise typer.Exit(2)
    if output not in ("text", "json"):
        _error(f"estate synth: --format {output!r}: allowed: text, json")
        raise typer.Exit(2)
    with _refusals("estate synth", "; nothing was written"):
        stacks = discover_stacks(stacks_dir) if all_stacks else [validate_stack_name(str(stack))]
        if not stacks:
            _error(f"estate synth: no Pulumi.<stack>.yaml files in {stacks_dir}")
            raise typer.Exit(2)
        results = synth_stacks(stacks, stacks_dir, out)
    if output == "json":
        typer.echo(synth_json(results), nl=False)
        return
    for result in results:
        _summary(result)


@contextlib.contextmanager
def _refusals(command: str, after: str) -> Iterator[None]:
    """What a command that synthesizes says, exit 2, when a stack is refused: a bad stack
    name, a refused stack file (each problem), an output that cannot be written, an alert
    rule that cannot be built. `after` ends the summary line (e.g. "; nothing was written")."""
    try:
        yield
    except InvalidStackNameError as exc:
        _error(f"{command}: {exc}{after}")
        raise typer.Exit(2) from None
    except StacksRefusedError as exc:
        for err in exc.errors:
            _error(err.render())
        _error(f"{command}: configuration refused{after}")
        raise typer.Exit(2) from None
    except OutputError as exc:
        _error(f"{command}: {exc}")
        raise typer.Exit(2) from None
    except RuleError as exc:
        _error(f"{command}: {_rule_refused(exc)}{after}")
        raise typer.Exit(2) from None


def _rule_refused(err: RuleError) -> str:
    """One line naming the alert, where it is declared and what is wrong (for invalid PromQL,
    where in the expression): an alert someone just added is a user's error, not a bug."""
    from infra.checks.runner import rule_error_finding

    found = rule_error_finding(err)
    line, _, rule = found.location.partition(" ")
    text = f"alert rule refused: {found.file}:{line}: {rule}: {found.message}"
    return " ".join(text.split())


def synth_json(results: list[StackResult]) -> str:
    """`estate synth --format json`: one document, every stack's summary and out path."""
    document = {
        "stacks": [{**r.summary.as_dict(), "path": str(r.path)} for r in results],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _error(message: str) -> None:
    """One message on stderr, exactly as written: no markup, no emoji codes, no highlighting."""
    errors.print(message, markup=False, emoji=False, highlight=False)


@app.command(short_help="Compare two git refs' synth output.")
def diff(  # noqa: PLR0917 (typer maps parameters to options)
    base: Annotated[str, typer.Option("--base", help="Git ref of the old side, e.g. origin/main.")],
    head: Annotated[
        str | None, typer.Option("--head", help="Git ref of the new side; default: working tree.")
    ] = None,
    stack: Annotated[str | None, typer.Argument(help="One stack; default: every stack.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every stack (the default).")] = False,
    output: Annotated[
        str, typer.Option("--format", help="text (terminal), markdown (PR comment) or json.")
    ] = "text",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 (after the whole report) when the change has any of these,"
            " comma-separated: data-loss, lost-paging, protected.",
        ),
    ] = None,
    repo: Annotated[Path, typer.Option("--repo", help="The git repository.")] = Path("."),
) -> None:
    """Synthesize two git refs and report resources, alert rules, paging and dashboards.
    Exits 2 when no report can be made (a ref that does not synthesize; amtool missing or
    too old, so paging impact cannot be computed)."""
    from infra.diff import DiffError, diff_refs
    from infra.diff.report import failures, markdown, parse_fail_on, terminal, to_json

    if stack is not None and all_stacks:
        errors.print(
            "estate diff: give one stack name or --all, not both", markup=False, emoji=False
        )
        raise typer.Exit(2)
    if output not in ("text", "markdown", "json"):
        errors.print(
            f"estate diff: --format {output!r}: allowed: text, markdown, json",
            markup=False,
            emoji=False,
        )
        raise typer.Exit(2)
    try:
        kinds = parse_fail_on(fail_on) if fail_on is not None else ()
    except ValueError as exc:
        errors.print(f"estate diff: {exc}", markup=False, emoji=False)
        raise typer.Exit(2) from None
    try:
        report = diff_refs(repo.resolve(), base, head, [stack] if stack else None)
    except DiffError as exc:
        # No report could be made (2), which --fail-on's 1 must never be mistaken for.
        errors.print(f"estate diff: {exc}", markup=False, emoji=False)
        raise typer.Exit(2) from None
    if output == "markdown":
        typer.echo(markdown(report), nl=False)
    elif output == "json":
        typer.echo(to_json(report), nl=False)
    else:
        terminal(report, console)
    failed = failures(report, kinds)
    if failed:
        errors.print(
            f"estate diff: --fail-on {','.join(kinds)}: {'; '.join(failed)}",
            markup=False,
            emoji=False,
        )
        raise typer.Exit(1)


@app.command(
    "deploy-policy", short_help="Print the IAM policy `pulumi up` needs for a stack (JSON)."
)
def deploy_policy(
    stack: Annotated[str, typer.Argument(help="Stack whose resources the policy covers.")],
    stacks_dir: StacksDir = Path("stacks"),
    out: OutDir = Path("out"),
) -> None:
    """Synthesize the stack, then print the IAM policy document its AWS resources need the
    deploying identity to have: the actions of each resource type it declares, nothing
    more (infra/checks/deploy_policy.py). Attach it to the deploy role."""
    from infra.checks.deploy_policy import UnknownResourceTypeError, policy_json

    with _refusals("estate deploy-policy", ""):
        (result,) = synth_stacks([validate_stack_name(stack)], stacks_dir, out)
        try:
            typer.echo(policy_json(result.summary.types), nl=False)
        except UnknownResourceTypeError as exc:
            _error(f"estate deploy-policy: {exc}")
            raise typer.Exit(2) from None


@app.command(short_help="Synthesize and run every validator; exit 1 on errors.")
def check(  # noqa: PLR0917 (typer maps parameters to options)
    stack: Annotated[str | None, typer.Argument(help="Stack to check, e.g. prod.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every stack in --stacks-dir.")] = False,
    output: Annotated[
        str, typer.Option("--format", help="text (terminal), markdown (PR comment) or json.")
    ] = "text",
    stacks_dir: StacksDir = Path("stacks"),
    out: OutDir = Path("out"),
    deployable: Annotated[
        bool,
        typer.Option(
            "--deployable",
            help="Also refuse the example values a stack must not deploy with: example account"
            " ids and ARNs, hosts under .example, placeholder secure: values.",
        ),
    ] = False,
) -> None:
    """Synthesize, then run every validator: config, promtool, amtool, PromQL, policies,
    kubernetes-validate. Exits 1 on any error. With --deployable, a stack that still carries
    placeholders is an error too (run it before the first `pulumi up`)."""
    from infra.checks.runner import run_checks, to_json, to_markdown

    if all_stacks == (stack is not None):
        _error("estate check: give one stack name or --all")
        raise typer.Exit(2)
    if output not in ("text", "markdown", "json"):
        _error(f"estate check: --format {output!r}: allowed: text, markdown, json")
        raise typer.Exit(2)
    try:
        stacks = discover_stacks(stacks_dir) if all_stacks else [validate_stack_name(str(stack))]
    except InvalidStackNameError as exc:
        _error(f"estate check: {exc}; nothing was checked or written")
        raise typer.Exit(2) from None
    except StacksRefusedError as exc:
        for err in exc.errors:
            _error(err.render())
        _error("estate check: stack file names refused; nothing was checked or written")
        raise typer.Exit(2) from None
    if not stacks:
        _error(f"estate check: no Pulumi.<stack>.yaml files in {stacks_dir}")
        raise typer.Exit(2)
    try:
        findings = run_checks(stacks, stacks_dir, out, deployable=deployable)
    except OutputError as exc:
        _error(f"estate check: {exc}")
        raise typer.Exit(2) from None
    if output == "json":
        typer.echo(to_json(findings), nl=False)
    elif output == "markdown":
        typer.echo(to_markdown(findings, stacks), nl=False)
    else:
        table = Table()
        for column in ("severity", "check", "file", "location", "message"):
            table.add_column(column, overflow="fold")
        for f in findings:
            table.add_row(
                *(Text(cell) for cell in (f.severity, f.check, f.file, f.location, f.message))
            )
        if findings:
            _line(f"estate check: {', '.join(stacks)}")
            console.print(table)
        console.print(
            f"{len(findings)} finding(s) in {len(stacks)} stack(s)", markup=False, emoji=False
        )
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def _summary(result: StackResult) -> None:
    """The per-stack summary; every cell a Text, so nothing in it is read as markup."""
    summary = result.summary
    # Titles are lines of their own: a table title wraps at the table's width.
    _line(f"{result.stack}: {summary.resources} resources -> {result.path}")
    table = Table()
    table.add_column("type", overflow="fold")
    table.add_column("count", justify="right")
    for typ, count in summary.types.items():
        table.add_row(Text(typ), Text(str(count)))
    console.print(table)
    if summary.protected:
        _line(f"{result.stack}: {len(summary.protected)} protected")
        protected = Table()
        protected.add_column("type", overflow="fold")
        protected.add_column("name", overflow="fold")
        for p in summary.protected:
            protected.add_row(Text(p.type), Text(p.name))
        console.print(protected)
    else:
        _line(f"{result.stack}: no protected resources")
    if summary.paging:
        _line(f"{result.stack}: paging routes")
        paging = Table()
        for column in ("severity", "receivers", "pages", "alerts that page"):
            paging.add_column(column, overflow="fold")
        for route in summary.paging:
            paging.add_row(
                Text(route.severity),
                Text(", ".join(route.receivers)),
                Text(", ".join(route.paging) if route.pages else "no"),
                Text(", ".join(route.alerts) or "-"),
            )
        console.print(paging)
    else:
        _line(f"{result.stack}: no Alertmanager config, nothing pages")
    _line(f"{result.stack}: {summary.secrets} secret(s) the program reads (values never shown)")
    for warning in summary.warnings:
        _line(f"warning: {warning}")


def _line(message: str) -> None:
    """One line on stdout, exactly as written."""
    console.print(message, markup=False, emoji=False, highlight=False)


#: Exit code of a bug (EX_SOFTWARE): distinct from 1 (findings, --fail-on) and 2 (refused).
INTERNAL_ERROR = 70


def main() -> None:
    """The console script. After the command has written and flushed everything, exit
    without tearing down the heap: the SDKs leave ~100k objects whose destruction costs a
    third of a second and does nothing for the user."""
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        # The last resort: every error a user can cause has its own message and exit code,
        # so anything reaching here is a bug. Say so in one line (the traceback helps only
        # whoever fixes it: ESTATE_DEBUG=1 shows it).
        if os.environ.get("ESTATE_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        print(
            f"estate: internal error ({type(exc).__name__}: {first}); this is a bug in estate."
            " Run again with ESTATE_DEBUG=1 to see where.",
            file=sys.stderr,
        )
        code = INTERNAL_ERROR
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
