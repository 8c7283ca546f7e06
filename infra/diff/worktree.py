"""Synthesize a git ref of the repository in a throwaway worktree, with that ref's own code."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from infra.naming import stack_name_problem


class DiffError(RuntimeError):
    """The diff could not be made (a side could not be synthesized, or paging could not be
    computed); the message says which and why. `estate diff` exits 2 on it."""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(repo: Path, ref: str) -> str:
    """The commit a ref names (so the report says exactly what was compared)."""
    return _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")


@contextlib.contextmanager
def checkout(repo: Path, ref: str | None, where: Path) -> Iterator[Path]:
    """The tree to synthesize: `ref` in a detached worktree, or the working tree for None."""
    if ref is None:
        yield repo
        return
    commit = resolve(repo, ref)
    _git(repo, "worktree", "add", "--detach", "--force", str(where), commit)
    try:
        yield where
    finally:
        _git(repo, "worktree", "remove", "--force", str(where))


def synth_tree(
    source: Path, stacks: list[str] | None, out: Path, ref: str | None = None
) -> list[str]:
    """Run `estate synth` of `source`'s own code over its own stacks into `out`.

    `ref` is the git ref `source` is a worktree of (None: the working tree): errors name a
    file as `<ref>:stacks/...`, never the throwaway worktree's path.
    Returns the stacks synthesized. A stack that does not exist at this ref is skipped
    (the comparison then reports it as added or removed)."""
    where = f"{ref}:" if ref is not None else f"{source}/"
    available = sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (source / "stacks").glob("Pulumi.*.yaml")
    )
    for name in available:
        # Checked here, not only by the ref's own code: an older estate (the base ref) may not
        # refuse `Pulumi....yaml`, and would then write (and remove) outside `out`.
        problem = stack_name_problem(name)
        if problem is not None:
            raise DiffError(f"{where}stacks/Pulumi.{name}.yaml: {problem}")
    wanted = [s for s in (stacks or available) if s in available]
    if not wanted:
        return []
    env = {**os.environ, "PYTHONPATH": str(source)}
    for stack in wanted:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                # Not `-m infra.cli`: older versions of the module have no __main__ block.
                "from infra.cli import app; app()",
                "synth",
                stack,
                "--stacks-dir",
                str(source / "stacks"),
                "--out",
                str(out),
            ],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise DiffError(
                f"estate synth {stack} failed at {ref or source}:\n"
                f"{(done.stderr or done.stdout).strip()}"
            )
    return wanted
