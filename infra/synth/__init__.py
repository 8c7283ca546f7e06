"""`estate synth`: run the real program under the SDK's mock engine and write out/<stack>/."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.config import ConfigError, ConfigProblem, EstateConfig, load_stack_file, stack_file
from infra.config.secrets import secret_values
from infra.estate import EstatePlan, plan
from infra.naming import stack_name_problem
from infra.program import register
from infra.synth.engine import SynthRun, run_program
from infra.synth.summary import StackSummary, summarize
from infra.synth.writer import render_files, type_counts, write_tree

__all__ = [
    "ConfigError",
    "StackResult",
    "StacksRefusedError",
    "discover_stacks",
    "synth_plans",
    "synth_stacks",
]


class StacksRefusedError(Exception):
    """One or more stacks' configs (or stack file names) were refused; nothing was written.

    `refused` holds the refused stacks' names, in the order of `errors`."""

    def __init__(self, errors: list[ConfigError], refused: list[str] | None = None) -> None:
        self.errors = errors
        self.refused = refused if refused is not None else []
        super().__init__("\n".join(e.render() for e in errors))


@dataclass(frozen=True)
class StackResult:
    stack: str
    path: Path
    run: SynthRun
    counts: dict[str, int]
    #: Resources, protected resources, paging routes and the number of secrets.
    summary: StackSummary


def discover_stacks(stacks_dir: Path) -> list[str]:
    """The stacks of `stacks_dir`'s `Pulumi.<stack>.yaml` files, sorted.

    Refuses (StacksRefusedError, one error per file) if any file's stack name breaks the
    rule of `infra.naming.stack_name_problem` (`Pulumi....yaml` is stack `..`,
    `Pulumi..yaml` stack ``): `--all` then synthesizes nothing rather than skip a stack."""
    stacks: list[str] = []
    errors: list[ConfigError] = []
    refused: list[str] = []
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        problem = stack_name_problem(stack)
        if problem is None:
            stacks.append(stack)
        else:
            errors.append(ConfigError(str(path), [ConfigProblem("(file name)", problem)]))
            refused.append(stack)
    if errors:
        raise StacksRefusedError(errors, refused)
    return sorted(stacks)


def _registrar(estate: EstatePlan) -> Callable[[EstateConfig], None]:
    """The program for run_program: registers the plan already computed (and validated)."""

    def program(_config: EstateConfig) -> None:
        register(estate)

    return program


def synth_stacks(stacks: list[str], stacks_dir: Path, out_dir: Path) -> list[StackResult]:
    """Validate every stack's config first (so a bad one writes nothing at all), then run
    and render each, and only then write."""
    plans: dict[str, tuple[EstateConfig, EstatePlan]] = {}
    errors: list[ConfigError] = []
    refused: list[str] = []
    for stack in stacks:
        try:
            path = stack_file(stacks_dir, stack)  # refuses a bad stack name first
            config = load_stack_file(path, stack)
            plans[stack] = (config, plan(config, source=str(path)))
        except ConfigError as exc:
            errors.append(exc)
            refused.append(stack)
    if errors:
        raise StacksRefusedError(errors, refused)
    return synth_plans([(stack, *plans[stack]) for stack in stacks], out_dir)


def synth_plans(
    plans: Sequence[tuple[str, EstateConfig, EstatePlan]], out_dir: Path
) -> list[StackResult]:
    """Run, render and write stacks already planned, (stack, config, plan) each: `estate check`
    plans each stack once and checks the same plan it synthesizes."""
    rendered = []
    for stack, config, estate in plans:
        run = run_program(config, stack, _registrar(estate))
        secrets = secret_values(config)
        files = render_files(run, secrets)
        summary = summarize(
            stack, run.registrations, files, secrets=len(secrets), warnings=run.warnings
        )
        rendered.append((stack, run, files, summary))
    return [
        StackResult(stack, write_tree(out_dir, stack, files), run, type_counts(run), summary)
        for stack, run, files, summary in rendered
    ]
