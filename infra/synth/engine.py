"""Run the real program under the Pulumi SDK's mock engine and collect what it registered."""

from __future__ import annotations

import contextvars
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import EstateConfig
from infra.naming import PROJECT
from infra.synth.mocks import EstateMocks
from infra.synth.recorder import RecordingMonitor, Registration


@dataclass(frozen=True)
class SynthRun:
    stack: str
    registrations: tuple[Registration, ...]
    warnings: tuple[str, ...]


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_program(
    config: EstateConfig, stack: str, program: Callable[[EstateConfig], None] | None = None
) -> SynthRun:
    """Run `program` (the estate's `build` by default) for `stack` under mocks.

    Each run gets a fresh context, so runs in one process (`--all`, tests) share no state.
    """
    if program is None:
        from infra.program import build

        program = build
    chosen = program
    # The program allocates many long-lived objects and few cycles: the cyclic collector
    # would spend ~15% of the run scanning them, so it pauses for the run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return contextvars.Context().run(_run, config, stack, chosen)
    finally:
        if enabled:
            # What the run allocated lives until the process exits: freeze it rather than
            # have the first collection walk all of it.
            gc.freeze()
            gc.enable()


def _run(config: EstateConfig, stack: str, program: Callable[[EstateConfig], None]) -> SynthRun:
    mocks = EstateMocks(config.aws_region)
    monitor = RecordingMonitor(mocks)
    logger = logging.getLogger(f"estate.synth.{stack}")
    logger.propagate = False
    collector = _Collector()
    logger.handlers = [collector]
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, logger=logger
    )
    _sync_await(run_pulumi_func(lambda: program(config)))
    regs = tuple(sorted(monitor.registrations, key=lambda r: r.urn))
    return SynthRun(stack=stack, registrations=regs, warnings=tuple(collector.messages))
