"""Benchmark `estate synth` against the floor: wall time and peak memory, per stack and size.

    python -m benchmarks.run                          # measure, print the report
    python -m benchmarks.run --write benchmarks/README.md

Every measurement is a fresh child process: `estate synth <stack> --stacks-dir D --out O` (the
real CLI, through its console script) or `python -m benchmarks.floor <stack> --stacks-dir D`.
Wall time runs from spawning the child to reaping it; peak memory is the child's own
`ru_maxrss` from `os.wait4`. Each case is repeated (synth and floor alternating) and the report
gives the medians. After every floor run its registered type counts are compared with the
synth's resources.json, so a floor that stopped matching the estate fails the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from benchmarks.estates import REPO_STACKS, ROOT, SIZES, STACKS_DIR, write_generated_stack

#: Synth may take at most this multiple of the floor's wall time, at every size.
RATIO_TARGET = 1.3
#: `estate synth prod` must finish within this many seconds.
PROD_TARGET_S = 2.0
#: Linear growth: the wall time each extra service costs between 100 and 1,000 services may be
#: at most this multiple of what it costs between 10 and 100.
LINEAR_TOLERANCE = 1.25
COMPONENT_PREFIX = "blueharvest:"
ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"


class BenchmarkError(RuntimeError):
    """A child failed, or the floor no longer registers what the synth does."""


#: A sample taken while other processes used more than this many cores is retried.
MAX_INTERFERENCE = 0.25
#: How many times a disturbed sample is retried before the least disturbed one is kept.
RETRIES = 4
#: How long to wait for the machine to be quiet before each sample, at most.
QUIET_WAIT_S = 90.0


@dataclass(frozen=True)
class Sample:
    wall_s: float
    peak_mib: float
    #: The child's own user + system CPU seconds.
    cpu_s: float = 0.0
    #: CPU the rest of the machine used meanwhile, in cores (from /proc/stat).
    other_cores: float = 0.0


@dataclass(frozen=True)
class Case:
    label: str
    stack: str
    stacks_dir: Path
    services: int
    repeats: int
    #: The floor's rendered documents, extracted from this case's first synth.
    documents: Path


@dataclass
class Result:
    case: Case
    resources: int = 0
    components: int = 0
    synth: list[Sample] = field(default_factory=list)
    floor: list[Sample] = field(default_factory=list)
    #: what -> step -> seconds, from one benchmarks.phases run each (plus its wall time).
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Samples thrown away because other processes were busy (see MAX_INTERFERENCE).
    rejected: int = 0

    @property
    def synth_wall(self) -> float:
        return statistics.median(s.wall_s for s in self.synth)

    @property
    def floor_wall(self) -> float:
        return statistics.median(s.wall_s for s in self.floor)

    @property
    def synth_peak(self) -> float:
        return statistics.median(s.peak_mib for s in self.synth)

    @property
    def floor_peak(self) -> float:
        return statistics.median(s.peak_mib for s in self.floor)

    @property
    def ratio(self) -> float:
        return self.synth_wall / self.floor_wall

    @property
    def cpu_ratio(self) -> float:
        floor = statistics.median(s.cpu_s for s in self.floor)
        synth = statistics.median(s.cpu_s for s in self.synth)
        return synth / floor if floor else float("nan")

    @property
    def interference(self) -> float:
        return max(s.other_cores for s in [*self.synth, *self.floor])


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    detail: str


# ---------------------------------------------------------------------------------------------
# Running children


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (0 where /proc/stat is not)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    # user nice system idle iowait irq softirq steal (guest time is already in user).
    busy = sum(fields[:3]) + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


def run_child(cmd: Sequence[str], env: dict[str, str]) -> tuple[Sample, str]:
    """Run `cmd` to completion in a fresh process; its wall time, peak RSS, CPU time and
    stdout, and how busy the rest of the machine was meanwhile."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy = busy_cpu_seconds()
        start = time.perf_counter()
        env = {**env, "BENCH_SPAWN_EPOCH": repr(time.time())}
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        busy = busy_cpu_seconds() - busy
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-3000:]
            raise BenchmarkError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    other = max(0.0, busy - cpu) / wall if busy else 0.0
    # Linux reports ru_maxrss in KiB.
    return Sample(wall, usage.ru_maxrss / 1024, cpu, other), stdout


def wait_for_quiet(limit_s: float = QUIET_WAIT_S) -> float:
    """Wait (up to `limit_s`) until the rest of the machine keeps at most MAX_INTERFERENCE
    cores busy over a one-second window; the last window's load, in cores."""
    deadline = time.monotonic() + limit_s
    while True:
        busy, start = busy_cpu_seconds(), time.perf_counter()
        time.sleep(1.0)
        load = (busy_cpu_seconds() - busy) / (time.perf_counter() - start)
        if load <= MAX_INTERFERENCE or time.monotonic() > deadline:
            return load


def run_quiet(cmd: Sequence[str], env: dict[str, str], log: Any) -> tuple[Sample, str, int]:
    """run_child once the machine is quiet, retried while other processes used more than
    MAX_INTERFERENCE cores; the least disturbed sample, and how many were thrown away."""
    best: tuple[Sample, str] | None = None
    retried = 0
    while True:
        wait_for_quiet()
        sample, stdout = run_child(cmd, env)
        if best is None or sample.other_cores < best[0].other_cores:
            best = (sample, stdout)
        if sample.other_cores <= MAX_INTERFERENCE or retried == RETRIES:
            return best[0], best[1], retried
        retried += 1
        print(f"    disturbed ({sample.other_cores:.2f} other cores busy)", file=log, flush=True)


def estate_command() -> list[str]:
    script = Path(sys.executable).with_name("estate")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from infra.cli import main; main()"]


def synth_command(case: Case, out_dir: Path) -> list[str]:
    return [
        *estate_command(),
        "synth",
        case.stack,
        "--stacks-dir",
        str(case.stacks_dir),
        "--out",
        str(out_dir),
    ]


def floor_command(case: Case) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.floor",
        case.stack,
        "--stacks-dir",
        str(case.stacks_dir),
        "--documents",
        str(case.documents),
    ]


def phases_command(what: str, case: Case, out_dir: Path) -> list[str]:
    cmd = [sys.executable, "-m", "benchmarks.phases", what, case.stack]
    cmd += ["--stacks-dir", str(case.stacks_dir)]
    if what == "synth":
        return [*cmd, "--out", str(out_dir)]
    return [*cmd, "--documents", str(case.documents)]


def child_env(pycache: Path | None) -> dict[str, str]:
    """The children's environment. With `pycache`, bytecode is cached (and read) there, outside
    the project and .venv; without, nothing is written and only bytecode already next to the
    sources is used (what this environment gives a run, see `venv_has_bytecode`)."""
    env = dict(os.environ)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def inspect_synth(out_dir: Path, case: Case, env: dict[str, str]) -> Counter[str]:
    """The type counts of the synth's resources.json, and the floor's documents written to
    `case.documents`, by a child process: the harness itself stays small, because a child's
    ru_maxrss starts at its parent's footprint when it is spawned."""
    cmd = [sys.executable, "-m", "benchmarks.documents"]
    cmd += [str(out_dir / case.stack / "resources.json"), str(case.documents)]
    _, stdout = run_child(cmd, env)
    return types_line(stdout)


def types_line(stdout: str) -> Counter[str]:
    """The {"types": {...}} line a child printed last."""
    lines = [line for line in stdout.splitlines() if line.startswith('{"types"')]
    if not lines:
        raise BenchmarkError("the child printed no type counts")
    return Counter({str(k): int(v) for k, v in json.loads(lines[-1])["types"].items()})


def check_floor(case: Case, synth: Counter[str], floor: Counter[str]) -> None:
    custom = Counter({t: n for t, n in synth.items() if not t.startswith(COMPONENT_PREFIX)})
    if custom != floor:
        diff = {t: (custom[t], floor[t]) for t in sorted(set(custom) | set(floor))}
        diff = {t: v for t, v in diff.items() if v[0] != v[1]}
        raise BenchmarkError(
            f"{case.label}: the floor registers other resources than the synth"
            f" (type: (synth, floor)): {diff}"
        )


def count_services(path: Path) -> int:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    services = (doc.get("config") or {}).get("blue-harvest:services") or {}
    return len(services)


def measure(case: Case, out_dir: Path, env: dict[str, str], log: Any) -> Result:
    result = Result(case)
    for rep in range(case.repeats):
        synth, _, rejected = run_quiet(synth_command(case, out_dir), env, log)
        result.rejected += rejected
        types = inspect_synth(out_dir, case, env)
        floor, stdout, rejected = run_quiet(floor_command(case), env, log)
        result.rejected += rejected
        check_floor(case, types, types_line(stdout))
        result.synth.append(synth)
        result.floor.append(floor)
        result.resources = sum(types.values())
        result.components = sum(n for t, n in types.items() if t.startswith(COMPONENT_PREFIX))
        print(
            f"  {case.label} run {rep + 1}/{case.repeats}: synth {synth.wall_s:.2f} s"
            f" {synth.peak_mib:.0f} MiB, floor {floor.wall_s:.2f} s {floor.peak_mib:.0f} MiB",
            file=log,
            flush=True,
        )
    return result


def measure_phases(result: Result, out_dir: Path, env: dict[str, str], log: Any) -> None:
    for what in ("synth", "floor"):
        sample, stdout, _ = run_quiet(phases_command(what, result.case, out_dir), env, log)
        line = [x for x in stdout.splitlines() if x.startswith('{"seconds"')][-1]
        seconds: dict[str, float] = json.loads(line)["seconds"]
        seconds["wall"] = sample.wall_s
        result.phases[what] = seconds


# ---------------------------------------------------------------------------------------------
# Verdicts


def marginal_per_service(results: Sequence[Result], attr: str) -> tuple[float, float] | None:
    """Seconds (or MiB) per extra service over 10 -> 100 and over 100 -> 1,000 services."""
    by_size = {r.case.services: r for r in results if r.case.label.startswith("services-")}
    if not {10, 100, 1000} <= set(by_size):
        return None
    v = {n: float(getattr(by_size[n], attr)) for n in (10, 100, 1000)}
    return (v[100] - v[10]) / 90, (v[1000] - v[100]) / 900


def verdicts(results: Sequence[Result], installed: Sequence[Result] = ()) -> list[Verdict]:
    out: list[Verdict] = []
    worst = max(results, key=lambda r: r.ratio)
    misses = [r for r in results if r.ratio > RATIO_TARGET]
    detail = ", ".join(f"{r.case.label} {r.ratio:.2f}x" for r in results)
    if misses:
        detail = f"missed at {', '.join(r.case.label for r in misses)}; " + detail
    out.append(
        Verdict(
            f"synth within {RATIO_TARGET}x of the floor at every size",
            not misses,
            f"worst {worst.case.label} at {worst.ratio:.2f}x ({detail})",
        )
    )
    prod = next((r for r in results if r.case.label == "prod"), None)
    if prod is not None:
        out.append(
            Verdict(
                f"`estate synth prod` under {PROD_TARGET_S:g} s",
                prod.synth_wall < PROD_TARGET_S,
                f"median {prod.synth_wall:.2f} s",
            )
        )
    for r in installed:
        out.append(
            Verdict(
                f"`estate synth prod` under {PROD_TARGET_S:g} s"
                f" {r.case.label.split(' ', 1)[1]} (informational)",
                r.synth_wall < PROD_TARGET_S,
                f"median {r.synth_wall:.2f} s; the floor {r.floor_wall:.2f} s",
            )
        )
    growth = marginal_per_service(results, "synth_wall")
    if growth is not None:
        low, high = growth
        floor_growth = marginal_per_service(results, "floor_wall")
        assert floor_growth is not None
        out.append(
            Verdict(
                "linear growth: per-service time over 100 -> 1,000 services at most"
                f" {LINEAR_TOLERANCE}x that over 10 -> 100",
                high <= LINEAR_TOLERANCE * low,
                f"synth {low * 1000:.1f} -> {high * 1000:.1f} ms/service ({high / low:.2f}x);"
                f" floor {floor_growth[0] * 1000:.1f} -> {floor_growth[1] * 1000:.1f}"
                f" ms/service ({floor_growth[1] / floor_growth[0]:.2f}x)",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    return {
        "nproc": str(usable),
        "cpu": cpu,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "pulumi": importlib.metadata.version("pulumi"),
        "pulumi-aws": importlib.metadata.version("pulumi-aws"),
    }


def venv_has_bytecode() -> bool:
    """Whether the installed pulumi_aws carries its compiled bytecode next to the sources."""
    import importlib.util

    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        return False
    src = Path(spec.origin)
    return (src.parent / "__pycache__" / f"{src.stem}.{sys.implementation.cache_tag}.pyc").exists()


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "infra", "stacks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (infra/ or stacks/ modified)" if dirty else rev


def _peaks_above(result: Result, floor_mib: float) -> bool:
    return all(s.peak_mib > floor_mib for s in [*result.synth, *result.floor])


def _mark(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def results_table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| stack / size | services | resources | synth wall s | synth peak MiB"
        " | floor wall s | floor peak MiB | ratio | CPU ratio | runs (retried) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        over = "" if r.ratio <= RATIO_TARGET else " (over)"
        lines.append(
            f"| {r.case.label} | {r.case.services} | {r.resources} | {r.synth_wall:.2f}"
            f" | {r.synth_peak:.0f} | {r.floor_wall:.2f} | {r.floor_peak:.0f}"
            f" | {r.ratio:.2f}x{over} | {r.cpu_ratio:.2f}x | {len(r.synth)} ({r.rejected}) |"
        )
    return lines


_STEPS = (
    "startup",
    "import",
    "config",
    "plan",
    "program",
    "render",
    "write",
    "other",
    "summary",
)


def phases_table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| stack / size | run | startup | import | config | plan | program"
        " | of which recording (CPU) | render | write | other | summary | exit | wall"
        " | GC, across steps |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for r in results:
        for what in ("synth", "floor"):
            p = r.phases.get(what)
            if p is None:
                continue
            residual = p["wall"] - sum(p.get(s, 0.0) for s in _STEPS)
            lines.append(
                f"| {r.case.label} | {what} | {cell(p.get('startup'))} | {cell(p.get('import'))}"
                f" | {cell(p.get('config'))} | {cell(p.get('plan'))} | {cell(p.get('program'))}"
                f" | {cell(p.get('recording'))} | {cell(p.get('render'))}"
                f" | {cell(p.get('write'))} | {cell(p.get('other'))} | {cell(p.get('summary'))}"
                f" | {cell(residual)} | {cell(p['wall'])}"
                f" | {cell(p.get('gc'))} ({100 * p.get('gc', 0.0) / p['wall']:.0f}%) |"
            )
    return lines


def samples_list(results: Sequence[Result]) -> list[str]:
    lines = []
    for r in results:
        synth = ", ".join(f"{s.wall_s:.2f} s/{s.peak_mib:.0f} MiB" for s in r.synth)
        floor = ", ".join(f"{s.wall_s:.2f} s/{s.peak_mib:.0f} MiB" for s in r.floor)
        lines.append(f"- {r.case.label}: synth {synth}; floor {floor}")
    return lines


def growth_lines(results: Sequence[Result]) -> list[str]:
    lines = []
    for attr, unit, scale in (
        ("synth_wall", "ms", 1000.0),
        ("floor_wall", "ms", 1000.0),
        ("synth_peak", "MiB", 1.0),
        ("floor_peak", "MiB", 1.0),
    ):
        g = marginal_per_service(results, attr)
        if g is not None:
            what, kind = attr.split("_")
            lines.append(
                f"- {what} {'wall time' if kind == 'wall' else 'peak memory'}:"
                f" {g[0] * scale:.2f} {unit}/service over 10 -> 100,"
                f" {g[1] * scale:.2f} {unit}/service over 100 -> 1,000"
            )
    return lines


def existing_analysis(path: Path) -> str | None:
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    pattern = re.escape(ANALYSIS_START) + r"\n(.*?)\n" + re.escape(ANALYSIS_END)
    match = re.search(pattern, text, re.S)
    return match.group(1) if match else None


def report(
    results: Sequence[Result],
    installed: Sequence[Result],
    *,
    bytecode: str,
    duration_s: float,
    analysis: str | None,
    harness_mib: float = 0.0,
) -> str:
    m = machine()
    vs = verdicts(results, installed)
    peaks_ok = all(_peaks_above(r, harness_mib) for r in [*results, *installed])
    out = [
        "# `estate synth` benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks.run --write benchmarks/README.md`);"
        " everything above *Analysis* is rewritten on every run, the analysis is kept.",
        "",
        "## How to run",
        "",
        "```sh",
        "make bench                                   # measure and rewrite this file",
        ".venv/bin/python -m benchmarks.run           # measure and print only",
        ".venv/bin/python -m benchmarks.run --sizes 10,100 --repeats 5",
        ".venv/bin/python -m benchmarks.documents out/prod/resources.json /tmp/prod.json",
        ".venv/bin/python -m benchmarks.floor prod --documents /tmp/prod.json   # the floor, once",
        ".venv/bin/python -m benchmarks.phases synth services-100 --stacks-dir D --out O",
        ".venv/bin/pytest tests/benchmarks            # the floor registers what synth does",
        "```",
        "",
        "## What is measured",
        "",
        "- **synth**: the real CLI, `estate synth <stack> --stacks-dir D --out O`, in a fresh"
        " process: interpreter start, imports, config loading and validation, the program under"
        " the SDK's mock engine with the recording monitor, rendering, writing out/<stack>/ and"
        " the summary table.",
        "- **floor** (`benchmarks/floor.py`): the same resources (same types, count, logical"
        " names, equivalent inputs, dependencies and providers) under the SDK's plain"
        " `MockMonitor` with trivial mocks (state = inputs): no component, no pydantic, no"
        " recording, nothing written. The CloudWatch logs estate is derived from the stack file"
        " and declared with raw `pulumi_aws` calls and the component's output wiring; the rest"
        " (monitoring, workloads, Loki, tracing, dashboards, Sentry) is rendered by the estate's"
        " own code, so the floor takes it as rendered, from the synth's resources.json"
        " (`benchmarks/documents.py`), and declares each resource with its SDK class or the"
        " SDK's CustomResource. After every floor run its type counts are checked against the"
        " synth's resources.json (components excluded); tests/benchmarks/test_floor.py checks"
        " types and logical names for prod and a 10-service estate.",
        "- **estates**: the repository's stacks (stacks/Pulumi.*.yaml) and generated prod-like"
        " estates of 10, 100 and 1,000 services (`services-N`: the prod stack file with its own"
        " services, which the alerts need, and `svc-0001`.. up to N, each pinned, with a port"
        " and all three log filters).",
        "- **wall**: spawn to reap, measured by the parent; **peak**: the child's own `ru_maxrss`"
        " (`os.wait4`); **CPU**: the child's user + system time. Each case runs synth and floor"
        " alternately; the table gives medians; *ratio* is synth wall / floor wall, *CPU ratio*"
        " the same for CPU time.",
        f"- **noise**: the machine is shared. Each sample waits (up to {QUIET_WAIT_S:g} s) for"
        f" other processes to use at most {MAX_INTERFERENCE} cores; a sample during which they"
        " used more (from /proc/stat, minus the child's own CPU) is retried up to"
        f" {RETRIES} times and the least disturbed one kept; *runs (retried)* counts the"
        " retries.",
        f"- **bytecode**: {bytecode}",
        "",
        "## Machine",
        "",
        f"- nproc {m['nproc']}; CPU {m['cpu']}",
        f"- {m['python']}; {m['os']}",
        f"- pulumi {m['pulumi']}, pulumi-aws {m['pulumi-aws']}",
        f"- commit {git_revision()}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        f" in {duration_s / 60:.1f} min",
        "- most other-process CPU during a kept sample:"
        f" {max(r.interference for r in [*results, *installed]):.2f} cores",
        f"- the harness's own peak RSS: {harness_mib:.0f} MiB (a child's `ru_maxrss` starts at"
        " its parent's footprint when spawned, so the harness keeps no large data; every peak"
        f" below is above it: {_mark(peaks_ok)})",
        "",
        "## Results",
        "",
        *results_table(results),
        "",
        "Marginal cost per service (from the medians):",
        "",
        *(growth_lines(results) or ["- (needs the 10, 100 and 1,000 service estates)"]),
        "",
    ]
    if installed:
        out += [
            "Without a bytecode cache (every run compiles what .venv has no .pyc for; this"
            " environment sets PYTHONDONTWRITEBYTECODE=1 and"
            f" .venv {'has' if venv_has_bytecode() else 'has no'} compiled bytecode):",
            "",
            *results_table(installed),
            "",
        ]
    out += [
        "## Targets",
        "",
        "| target | verdict | measured |",
        "|---|---|---|",
        *(f"| {v.target} | {_mark(v.passed)} | {v.detail} |" for v in vs),
        "",
    ]
    if any(r.phases for r in results):
        out += [
            "## Where the time goes",
            "",
            "One `python -m benchmarks.phases` run per case, in seconds: `estate synth` through"
            " the function its console script calls, with each step of `synth_stacks` and the"
            " summary timed in place (the floor: reading its inputs, then its program)."
            " *startup* is spawn to the child's first line; *other* is the CLI around the steps"
            " (typer, the output tree);"
            " *exit* is the wall time left: interpreter teardown; *recording* is the CPU the"
            " RecordingMonitor adds over the plain MockMonitor, inside *program*; *GC* is time in"
            " the cyclic garbage collector, spread over the steps.",
            "",
            *phases_table(results),
            "",
        ]
    out += [
        "<details><summary>Every sample (wall / peak)</summary>",
        "",
        *samples_list(results),
        *samples_list(installed),
        "",
        "</details>",
        "",
        "## Analysis",
        "",
        ANALYSIS_START,
        (analysis or "(not written yet)").strip("\n"),
        ANALYSIS_END,
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Main


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _stacks(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--write", type=Path, help="Write the report (markdown) here.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per case (default 3).")
    parser.add_argument(
        "--repeats-large", type=int, default=3, help="Runs for estates over 500 services."
    )
    parser.add_argument("--sizes", type=_sizes, default=SIZES, help="Generated service counts.")
    parser.add_argument("--stacks", type=_stacks, default=REPO_STACKS, help="Repository stacks.")
    parser.add_argument(
        "--no-phases", action="store_true", help="Skip the per-step breakdown runs."
    )
    parser.add_argument(
        "--no-installed",
        action="store_true",
        help="Skip the prod runs without a bytecode cache.",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log = sys.stderr
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="estate-bench-"))
    try:
        gen_dir, out_dir, docs_dir = work / "stacks", work / "out", work / "documents"
        cases = [
            Case(
                s,
                s,
                STACKS_DIR,
                count_services(STACKS_DIR / f"Pulumi.{s}.yaml"),
                args.repeats,
                docs_dir / f"{s}.json",
            )
            for s in args.stacks
        ]
        for n in args.sizes:
            stack = write_generated_stack(gen_dir, n)
            repeats = args.repeats_large if n > 500 else args.repeats
            cases.append(Case(stack, stack, gen_dir, n, repeats, docs_dir / f"{stack}.json"))
        warm = child_env(work / "pycache")
        # Warm-up: fill the bytecode cache and the page cache; not measured.
        warmup = next((c for c in cases if c.label == "prod"), cases[-1])
        print(f"warm-up ({warmup.label})", file=log, flush=True)
        run_child(synth_command(warmup, out_dir), warm)
        inspect_synth(out_dir, warmup, warm)
        run_child(floor_command(warmup), warm)
        run_child(phases_command("synth", warmup, out_dir), warm)

        results = [measure(c, out_dir, warm, log) for c in cases]
        installed: list[Result] = []
        if not args.no_installed and "prod" in args.stacks:
            print("prod without a bytecode cache", file=log, flush=True)
            prod = next(c for c in cases if c.label == "prod")
            cold = Case(
                "prod (no bytecode cache)",
                "prod",
                prod.stacks_dir,
                prod.services,
                args.repeats,
                prod.documents,
            )
            installed.append(measure(cold, out_dir, child_env(None), log))
        if not args.no_phases:
            for r in results:
                print(f"  {r.case.label}: phases", file=log, flush=True)
                measure_phases(r, out_dir, warm, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bytecode = (
        "children cache bytecode in a private PYTHONPYCACHEPREFIX (outside the project and"
        " .venv), filled by an unmeasured warm-up run, so the numbers are a developer's second"
        " and later runs; the prod row without a cache is listed separately."
    )
    analysis = existing_analysis(args.write) if args.write else None
    text = report(
        results,
        installed,
        bytecode=bytecode,
        duration_s=time.perf_counter() - started,
        analysis=analysis,
        harness_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}", file=log)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
