"""`estate synth`: run the real program under the SDK's mock engine and write out/<stack>/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.config import ConfigError, EstateConfig, load_stack_file, stack_file
from infra.config.secrets import secret_values
from infra.program import EstatePlan, plan, register
from infra.synth.engine import SynthRun, run_program
from infra.synth.writer import render_files, type_counts, write_tree

__all__ = ["ConfigError", "StackResult", "StacksRefusedError", "discover_stacks", "synth_stacks"]


class StacksRefusedError(Exception):
    """One or more stacks' configs were refused; nothing was written."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


@dataclass(frozen=True)
class StackResult:
    stack: str
    path: Path
    run: SynthRun
    counts: dict[str, int]


def discover_stacks(stacks_dir: Path) -> list[str]:
    files = stacks_dir.glob("Pulumi.*.yaml")
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in files)


def _registrar(estate: EstatePlan) -> Callable[[EstateConfig], None]:
    """The program for run_program: registers the plan already computed (and validated)."""

    def program(_config: EstateConfig) -> None:
        register(estate)

    return program


def synth_stacks(stacks: list[str], stacks_dir: Path, out_dir: Path) -> list[StackResult]:
    """Validate every stack's config first (so a bad one writes nothing at all), then run
    and render each, and only then write."""
    plans: dict[str, EstatePlan] = {}
    errors: list[ConfigError] = []
    for stack in stacks:
        path = stack_file(stacks_dir, stack)
        try:
            plans[stack] = plan(load_stack_file(path, stack), source=str(path))
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise StacksRefusedError(errors)
    rendered = []
    for stack in stacks:
        estate = plans[stack]
        run = run_program(estate.config, stack, _registrar(estate))
        rendered.append((stack, run, render_files(run, secret_values(estate.config))))
    return [
        StackResult(stack, write_tree(out_dir, stack, files), run, type_counts(run))
        for stack, run, files in rendered
    ]
