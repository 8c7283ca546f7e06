"""How long `make test` takes on a fresh clone, set-up included (`make bench-suite`).

Clones the repository at a ref into a temporary folder (no .venv, no .tools, no caches of
the project's own: what a new user or CI starts from), then runs the README's test command
there and times its phases from make's own output: the set-up (uv and the locked
dependencies, the Prometheus tools), lint and typecheck, and pytest. The machine's package
caches (uv's, apt's downloads) are what they are: CI runs on the same machine.

    .venv/bin/python -m benchmarks.suite_time                 # HEAD, print the row
    .venv/bin/python -m benchmarks.suite_time --ref d876c5f   # an older commit
    .venv/bin/python -m benchmarks.suite_time --write benchmarks/README.md

`--write` replaces the section between the suite-time markers in the README (in its kept
*Analysis* part), adding this run's row to the ones already there (one row per ref).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.run import ANALYSIS_END, busy_cpu_seconds, machine

ROOT = Path(__file__).resolve().parents[1]
#: The target (issue 17): a fresh clone's `make test`, set-up included, on 2 cores.
TARGET_S = 8 * 60
BEGIN = "<!-- suite-time -->"
END = "<!-- /suite-time -->"
#: What make echoes when a phase starts (the recipes of the Makefile's targets).
PHASES = (
    ("set-up", re.compile(r"scripts/bootstrap\.sh|uv sync|install-prometheus")),
    ("lint + typecheck", re.compile(r"ruff check|mypy")),
    ("pytest", re.compile(r"/pytest\b")),
)


@dataclass(frozen=True)
class Run:
    ref: str
    commit: str
    seconds: float
    phases: dict[str, float]
    passed: bool
    summary: str
    other_cores: float


def _commit(ref: str) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def measure(ref: str) -> Run:
    commit = _commit(ref)
    with tempfile.TemporaryDirectory(prefix="estate-suite-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True
        )
        subprocess.run(["git", "checkout", "--quiet", commit], cwd=clone, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTEST"))}
        busy_before = busy_cpu_seconds()
        started = time.monotonic()
        marks: dict[str, float] = {}
        lines: list[str] = []
        process = subprocess.Popen(
            ["make", "test"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            for name, pattern in PHASES:
                if name not in marks and pattern.search(line):
                    marks[name] = time.monotonic() - started
        code = process.wait()
        seconds = time.monotonic() - started
        busy = busy_cpu_seconds() - busy_before
    order = [name for name, _ in PHASES if name in marks]
    phases = {
        name: (marks[order[i + 1]] if i + 1 < len(order) else seconds) - marks[name]
        for i, name in enumerate(order)
    }
    summary = next((x.strip() for x in reversed(lines) if re.search(r"passed|failed", x)), "")
    log = Path(tempfile.gettempdir()) / f"estate-suite-{commit}.log"
    log.write_text("".join(lines), encoding="utf-8")
    print(f"make test's output: {log}", file=sys.stderr)
    return Run(ref, commit, seconds, phases, code == 0, summary, busy / seconds)


def row(run: Run) -> str:
    def phase(name: str) -> str:
        value = run.phases.get(name)
        return f"{value / 60:.1f}" if value is not None else "-"

    verdict = "PASS" if run.passed and run.seconds <= TARGET_S else "FAIL"
    return (
        f"| {run.commit} | {run.seconds / 60:.1f} | {phase('set-up')} |"
        f" {phase('lint + typecheck')} | {phase('pytest')} | {run.summary.strip('= ')} |"
        f" {run.other_cores:.2f} | {verdict} |"
    )


HEADER = (
    "| commit | make test, min | set-up | lint + typecheck | pytest | result |"
    " busy cores (all processes) | under 8 min |\n"
    "|---|---:|---:|---:|---:|---|---:|---|"
)


def write(readme: Path, run: Run) -> None:
    text = readme.read_text(encoding="utf-8")
    rows: list[str] = []
    if BEGIN in text:
        old = text[text.index(BEGIN) : text.index(END)]
        rows = [x for x in old.splitlines() if x.startswith("| ") and not x.startswith("| commit")]
        rows = [x for x in rows if not x.startswith(f"| {run.commit} |")]
    info = machine()
    section = "\n".join(
        [
            BEGIN,
            "`make test` on a fresh clone (`python -m benchmarks.suite_time`), set-up included;"
            f" {info.get('nproc', '?')} cores; last measured"
            f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            "",
            HEADER,
            *rows,
            row(run),
            END,
        ]
    )
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    elif ANALYSIS_END in text:  # inside the analysis, which `make bench` keeps
        at = text.index(ANALYSIS_END)
        text = text[:at] + "\n### The test suite's time\n\n" + section + "\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n### The test suite's time\n\n" + section + "\n"
    readme.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default HEAD)")
    parser.add_argument("--write", type=Path, help="update this README's suite-time section")
    args = parser.parse_args(argv)
    run = measure(args.ref)
    print(HEADER)
    print(row(run))
    if args.write:
        write(args.write, run)
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
