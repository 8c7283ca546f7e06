"""Where one run's time goes: the steps of `estate synth` (or of the floor), timed in-process.

    python -m benchmarks.phases synth <stack> --stacks-dir D --out O
    python -m benchmarks.phases floor <stack> --stacks-dir D --documents J

runs `estate synth` through the function the `estate` console script calls, timing in place
each function `synth_stacks` calls (config loading, plan, the program under the mock engine,
render, write) and the summary table, or runs the floor, and prints one JSON line of seconds
per step as its last line of output. Besides the steps it reports two things that cut across
them:

* `gc`: wall seconds spent in the cyclic garbage collector (from `gc.callbacks`), whichever
  step triggered it;
* `recording` (synth only): CPU seconds the RecordingMonitor adds to each registration over the
  SDK's MockMonitor (its MessageToDict and clean), measured with `time.thread_time` in the
  engine's worker threads by slotting a timing class between the two.

It is a diagnostic: the headline numbers come from `benchmarks.run` timing the real CLI.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class _GcTimer:
    """Sums the wall time of every garbage collection, per thread that ran it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._local = threading.local()

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._local.start = time.perf_counter()
        elif phase == "stop":
            start = getattr(self._local, "start", None)
            if start is not None:
                self.seconds += time.perf_counter() - start
                self.collections += 1


class _Steps:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._last
        self._last = now


def _timed_recording_monitor() -> tuple[type[Any], Callable[[], float]]:
    """A RecordingMonitor that measures its own cost over the MockMonitor it extends.

    MRO: _Timed -> RecordingMonitor -> _Base -> MockMonitor, so RecordingMonitor's
    `super().RegisterResource` lands in _Base, which times the SDK's part alone.
    """
    from pulumi.runtime.mocks import MockMonitor

    from infra.synth.recorder import RecordingMonitor

    totals = {"all": 0.0, "base": 0.0}
    lock = threading.Lock()

    class _Base(MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            start = time.thread_time()
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            with lock:
                totals["base"] += time.thread_time() - start
            return response

    class _Timed(RecordingMonitor, _Base):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            start = time.thread_time()
            response = super().RegisterResource(request)
            with lock:
                totals["all"] += time.thread_time() - start
            return response

    return _Timed, lambda: totals["all"] - totals["base"]


#: What `synth_stacks` calls, by the name it calls it (a global of infra.synth) -> step.
SYNTH_STEPS = {
    "load_stack_file": "config",
    "plan": "plan",
    "run_program": "program",
    "render_files": "render",
    "write_tree": "write",
}


def _timing(fn: Callable[..., Any], step: str, steps: _Steps) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        steps.mark("other")
        try:
            return fn(*args, **kwargs)
        finally:
            steps.mark(step)

    return timed


def console_script() -> Callable[[], Any]:
    """What the installed `estate` console script calls (pyproject's [project.scripts])."""
    import importlib.metadata

    [entry] = list(importlib.metadata.entry_points(group="console_scripts", name="estate"))
    function: Callable[[], Any] = entry.load()
    return function


def synth(
    stack: str, stacks_dir: Path, out_dir: Path, steps: _Steps, report: Callable[[], None]
) -> None:
    """`estate synth` through the function the `estate` console script calls (so its exit
    path too), with each function `synth_stacks` calls and the summary timed in place.
    `report` prints the result: before a hard exit if the CLI ends with one, else after it
    returns."""
    import infra.cli
    import infra.program
    import infra.synth
    from infra.synth import engine

    timed_monitor, recording = _timed_recording_monitor()
    steps.mark("import")
    namespace = vars(infra.synth)
    for name, fn in [(n, namespace[n]) for n in SYNTH_STEPS if n in namespace]:
        namespace[name] = _timing(fn, SYNTH_STEPS[name], steps)
    vars(infra.cli)["_summary"] = _timing(infra.cli._summary, "summary", steps)
    vars(engine)["RecordingMonitor"] = timed_monitor
    infra.cli.console.file = io.StringIO()
    hard_exit = os._exit

    def finish(code: int = 0) -> None:
        steps.mark("other")
        steps.seconds["recording"] = recording()
        report()
        hard_exit(code)

    vars(os)["_exit"] = finish
    sys.argv = ["estate", "synth", stack, "--stacks-dir", str(stacks_dir), "--out", str(out_dir)]
    try:
        console_script()()
    except SystemExit as exc:
        if exc.code:
            raise
    steps.mark("other")
    steps.seconds["recording"] = recording()
    vars(os)["_exit"] = hard_exit


def floor(stack: str, stacks_dir: Path, documents: Path, steps: _Steps) -> None:
    from benchmarks.floor import read_documents, read_estate, run

    steps.mark("import")
    estate = read_estate(stacks_dir / f"Pulumi.{stack}.yaml", stack)
    docs = read_documents(documents)
    steps.mark("config")
    run(estate, docs)
    steps.mark("program")


def main(argv: list[str] | None = None) -> None:
    gc_timer = _GcTimer()
    gc.callbacks.append(gc_timer)
    steps = _Steps()
    spawned = os.environ.get("BENCH_SPAWN_EPOCH")
    startup = {"startup": time.time() - float(spawned)} if spawned else {}
    parser = argparse.ArgumentParser(prog="python -m benchmarks.phases", description=__doc__)
    parser.add_argument("what", choices=("synth", "floor"))
    parser.add_argument("stack")
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.add_argument("--out", type=Path, default=Path("out"), help="synth: out/ directory")
    parser.add_argument("--documents", type=Path, help="floor: see benchmarks.documents")
    args = parser.parse_args(argv)

    def report() -> None:
        seconds = {**startup, **steps.seconds, "gc": gc_timer.seconds}
        line = json.dumps({"seconds": seconds, "gc_collections": gc_timer.collections})
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    if args.what == "synth":
        synth(args.stack, args.stacks_dir, args.out, steps, report)
    elif args.documents is None:
        parser.error("floor needs --documents")
    else:
        floor(args.stack, args.stacks_dir, args.documents, steps)
    report()


if __name__ == "__main__":
    main()
